// The doctor report's print button (no inline handlers: the pages' Content-Security-Policy forbids them).
document.querySelectorAll("[data-print]").forEach((b) => b.addEventListener("click", () => window.print()));

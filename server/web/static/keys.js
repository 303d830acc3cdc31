// Keyboard shortcuts for the night shift, and focus kept where the work is.
// Queue: J / K next / previous alarm, A acknowledge the alarm in focus (else the first unanswered one).
// Alarm page: A acknowledge, N note, R resolve (focus the outcome), J back to the queue.
// Never while typing in a field, never with Ctrl/Alt/Meta.
(function () {
  "use strict";

  function focusFromUrl() {
    var id = new URLSearchParams(window.location.search).get("focus");
    var el = id ? document.getElementById(id) : null;
    if (el) { el.focus(); }
  }
  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }
  function queueLinks() {
    return Array.prototype.slice.call(document.querySelectorAll("#queue tr[data-alarm-id] a[id^='alarm-link-']"));
  }
  function currentRow() {
    var active = document.activeElement;
    return active && active.closest ? active.closest("#queue tr[data-alarm-id]") : null;
  }
  function step(delta) {
    var links = queueLinks();
    if (!links.length) { return; }
    var row = currentRow();
    var at = row ? links.indexOf(row.querySelector("a[id^='alarm-link-']")) : -1;
    var next = at < 0 ? (delta > 0 ? 0 : links.length - 1) : (at + delta + links.length) % links.length;
    links[next].focus();
  }
  function acknowledgeInQueue() {
    var row = currentRow() || document.querySelector("#queue tr[data-status='raised'], #queue tr[data-status='notified']");
    var button = row ? row.querySelector(".queue-ack button") : null;
    if (button) { button.click(); }
  }
  function press(id) {
    var el = document.getElementById(id);
    if (el) { el.click(); return true; }
    return false;
  }
  function focusOn(id) {
    var el = document.getElementById(id);
    if (el) { el.focus(); if (el.scrollIntoView) { el.scrollIntoView({ block: "center" }); } }
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey || typing(event.target)) { return; }
    var key = event.key.toLowerCase();
    var onQueue = !!document.getElementById("queue");
    var handled = true;
    if (onQueue && (key === "j" || key === "k")) { step(key === "j" ? 1 : -1); }
    else if (onQueue && key === "a") { acknowledgeInQueue(); }
    else if (!onQueue && key === "a") { handled = press("ack-button"); }
    else if (!onQueue && key === "n") { focusOn("note-text"); }
    else if (!onQueue && key === "r") { focusOn("outcome"); }
    else if (!onQueue && key === "j" && document.getElementById("panel")) { window.location.href = "/console"; }
    else { handled = false; }
    if (handled) { event.preventDefault(); }
  });
  focusFromUrl();
})();

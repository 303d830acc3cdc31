// Live pages: the server pushes "changed" over server-sent events; the page then fetches the
// server-rendered fragments marked data-live and swaps them in. No polling loop, no reload.
(function () {
  "use strict";
  var script = document.currentScript;
  var eventsUrl = script.dataset.events;
  var alertingUrl = script.dataset.alerting;
  var state = document.getElementById("live-state");
  var banner = document.getElementById("alert-banner");
  var soundButton = document.getElementById("sound-on");
  var alert = { ids: [], beeps: 0, timer: null, audio: null };
  window.anxinAlert = alert;

  function formatAge(seconds) {
    var m = Math.floor(seconds / 60), s = seconds % 60;
    if (m >= 60) { return Math.floor(m / 60) + " h " + (m % 60) + " min"; }
    return m + ":" + (s < 10 ? "0" : "") + s;
  }
  function tickAges() {
    var now = Date.now();
    document.querySelectorAll(".age[data-since]").forEach(function (el) {
      var since = Date.parse(el.dataset.since);
      if (!isNaN(since)) { el.textContent = formatAge(Math.max(0, Math.floor((now - since) / 1000))); }
    });
  }

  function refresh(el) {
    return fetch(el.dataset.live, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (r.redirected || r.status === 401) { window.location.reload(); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (html === null) { return; }
        // Keep keyboard users where they were: the element with focus is found again by id.
        var focused = document.activeElement && el.contains(document.activeElement) ? document.activeElement.id : null;
        el.innerHTML = html;
        if (focused && document.getElementById(focused)) { document.getElementById(focused).focus(); }
        tickAges();
      });
  }
  function refreshAll() {
    var jobs = [];
    document.querySelectorAll("main [data-live]").forEach(function (el) { jobs.push(refresh(el)); });
    jobs.push(checkAlerting());
    return Promise.all(jobs);
  }

  // The audible alert: a two-tone beep every two seconds while an emergency is unanswered.
  function beep() {
    if (!alert.audio) {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) { return; }
      alert.audio = new Ctx();
    }
    var ctx = alert.audio;
    if (ctx.state !== "running") { ctx.resume(); if (soundButton) { soundButton.hidden = false; } return; }
    if (soundButton) { soundButton.hidden = true; }
    [880, 660].forEach(function (freq, i) {
      var osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = freq; gain.gain.value = 0.3;
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start(ctx.currentTime + i * 0.25); osc.stop(ctx.currentTime + i * 0.25 + 0.22);
    });
    alert.beeps += 1;
  }
  function setAlerting(ids) {
    alert.ids = ids;
    var on = ids.length > 0;
    document.body.dataset.alerting = on ? "1" : "0";
    if (banner) { banner.hidden = !on; }
    if (on && !alert.timer) { beep(); alert.timer = window.setInterval(beep, 2000); }
    if (!on && alert.timer) { window.clearInterval(alert.timer); alert.timer = null; }
  }
  // Links naming the resident; their text is data from homes, so only ever textContent.
  function fillLinks(holder, items) {
    if (!holder) { return; }
    holder.textContent = "";
    items.forEach(function (item) {
      var a = document.createElement("a");
      a.href = item.url;
      a.textContent = item.resident;
      a.dataset.alarmId = item.id;
      holder.appendChild(a);
    });
  }
  function setUnreached(items) {
    var holder = document.getElementById("unreached-banner");
    if (!holder) { return; }
    fillLinks(document.getElementById("unreached-list"), items);
    holder.hidden = items.length === 0;
    document.body.dataset.unreached = String(items.length);
  }
  function checkAlerting() {
    if (!alertingUrl) { return Promise.resolve(); }
    return fetch(alertingUrl, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (doc) {
        if (!doc) { return; }
        fillLinks(document.getElementById("alert-who"), doc.newest || []);
        setAlerting(doc.unanswered_emergencies);
        setUnreached(doc.unreached || []);
      });
  }
  function unlockSound() { if (alert.audio && alert.audio.state !== "running") { alert.audio.resume(); } }
  document.addEventListener("click", unlockSound);
  document.addEventListener("keydown", unlockSound);
  if (soundButton) {
    soundButton.addEventListener("click", function () {
      if (!alert.audio) { beep(); } else { alert.audio.resume().then(beep); }
    });
  }

  function connect() {
    var source = new EventSource(eventsUrl);
    source.addEventListener("hello", function () {
      if (state) { state.textContent = state.dataset.liveText; state.classList.remove("down"); }
      document.body.dataset.connected = "1";  // not data-live: that marks fragments to redraw
      refreshAll();  // catch up on anything missed while disconnected
    });
    source.addEventListener("changed", function (event) {
      // "push" from this server's hub, or "poll" when another server process made the change.
      try { document.body.dataset.lastChange = JSON.parse(event.data).source; } catch (e) { /* keep going */ }
      refreshAll();
    });
    source.onerror = function () {
      document.body.dataset.connected = "0";
      if (state) { state.textContent = state.dataset.offlineText; state.classList.add("down"); }
    };
  }

  tickAges();
  window.setInterval(tickAges, 1000);
  checkAlerting();
  if (eventsUrl && window.EventSource) { connect(); }
})();

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
  var alert = { ids: [], beeps: 0, timer: null, audio: null, who: "", flash: null, notified: {} };
  var offline = document.getElementById("offline-banner");
  var baseTitle = document.title;
  var lastUpdate = null;
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
    return Promise.all(jobs).then(function () { lastUpdate = new Date(); });
  }
  // Losing the live connection: the whole width says so, with the time of the last update, and the
  // live parts are greyed out, because new alarms would not appear in them.
  function setOffline(down) {
    document.body.dataset.connected = down ? "0" : "1";  // not data-live: that marks fragments to redraw
    if (!offline) { return; }
    if (down) {
      var when = lastUpdate ? lastUpdate.toLocaleTimeString("zh-CN", { hour12: false, timeZone: "Asia/Shanghai" }) : "—";
      offline.querySelector(".when").textContent = when;
    }
    offline.hidden = !down;
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
  // The tab's title flashes the resident's name while an emergency is unanswered (staff in another tab see it).
  function flashTitle(on) {
    if (on && !alert.flash) {
      var shown = false;
      alert.flash = window.setInterval(function () {
        shown = !shown;
        document.title = shown ? "‼ " + (banner ? banner.dataset.short : "") + " " + alert.who : baseTitle;
      }, 1000);
    }
    if (!on && alert.flash) { window.clearInterval(alert.flash); alert.flash = null; document.title = baseTitle; }
  }
  function desktopNotify(newest) {
    // Permission is asked once, on the first click (browsers refuse to ask without one).
    if (!window.Notification || Notification.permission !== "granted") { return; }
    newest.forEach(function (item) {
      if (alert.notified[item.id]) { return; }
      alert.notified[item.id] = true;
      var n = new Notification((banner ? banner.dataset.short : "") + " " + item.resident, { tag: "anxin-" + item.id });
      n.onclick = function () { window.focus(); window.location.href = item.url; };
    });
  }
  function setAlerting(ids, newest) {
    alert.ids = ids;
    alert.who = newest && newest.length ? newest[0].resident : "";
    var on = ids.length > 0;
    document.body.dataset.alerting = on ? "1" : "0";
    if (banner) { banner.hidden = !on; }
    if (on && !alert.timer) { beep(); alert.timer = window.setInterval(beep, 2000); }
    if (!on && alert.timer) { window.clearInterval(alert.timer); alert.timer = null; }
    flashTitle(on);
    if (on) { desktopNotify(newest || []); }
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
        setAlerting(doc.unanswered_emergencies, doc.newest || []);
        setUnreached(doc.unreached || []);
      });
  }
  function unlockSound() {
    if (alert.audio && alert.audio.state !== "running") { alert.audio.resume(); }
    if (window.Notification && Notification.permission === "default" && !alert.asked) {
      alert.asked = true;
      Notification.requestPermission();
    }
  }
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
      setOffline(false);
      refreshAll();  // catch up on anything missed while disconnected
    });
    source.addEventListener("changed", function (event) {
      // "push" from this server's hub, or "poll" when another server process made the change.
      try { document.body.dataset.lastChange = JSON.parse(event.data).source; } catch (e) { /* keep going */ }
      refreshAll();
    });
    source.onerror = function () {
      setOffline(true);
      if (state) { state.textContent = state.dataset.offlineText; state.classList.add("down"); }
    };
  }

  lastUpdate = new Date();  // the page itself was just rendered by the server
  tickAges();
  window.setInterval(tickAges, 1000);
  checkAlerting();
  if (eventsUrl && window.EventSource) { connect(); }
})();

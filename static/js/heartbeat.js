/* Online study progress (learning:resource_heartbeat).
 *
 * The page says what it plays: [data-heartbeat] holds the address, the CSRF token, the kind, the
 * length in seconds and where a reader left off. Every ~15 seconds, and whenever playing stops,
 * the script reports the range actually played since the last report ({start, end} in seconds);
 * the server decides what counts (no seconds counted twice, none beyond the length, none faster
 * than the clock, a daily cap) and answers with the progress shown in the bar.
 *
 * - Video and audio: only while the media is playing; a video pauses when the page is hidden.
 * - Courseware and articles: only while the page is visible and the reader has touched, scrolled
 *   or typed in the last two minutes (or is inside the courseware viewer). */
(function () {
  "use strict";

  var box = document.querySelector("[data-heartbeat]");
  if (!box) return;
  var INTERVAL = 15000;
  var IDLE_AFTER = 120000;
  var url = box.dataset.heartbeat;
  var csrf = box.dataset.csrf;
  var duration = parseFloat(box.dataset.duration) || 0;
  var done = box.dataset.completed === "1";
  var bar = box.querySelector("[data-progress-bar]");
  var status = box.querySelector("[data-status]");

  function show(data, ok) {
    if (!ok) {
      if (status && data && data.detail) status.textContent = data.detail;
      return;
    }
    var percent = Math.max(0, Math.min(100, data.percent || 0));
    if (bar) {
      bar.style.width = percent + "%";
      bar.textContent = percent + "%";
      bar.parentNode.setAttribute("aria-valuenow", String(percent));
    }
    if (data.completed) {
      done = true;
      if (bar) { bar.classList.remove("bg-danger"); bar.classList.add("bg-success"); }
      if (status) {
        status.classList.add("text-success", "fw-bold");
        status.textContent = "✓ " + data.message;
      }
    } else if (status) {
      var minutes = Math.floor((data.played_seconds || 0) / 60);
      status.textContent = data.message || ("已学 " + minutes + " 分钟，共 " + Math.round(duration / 60) + " 分钟");
    }
  }

  function send(start, end, leaving) {
    var body = JSON.stringify({ start: Math.max(0, start), end: Math.max(0, end) });
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      credentials: "same-origin",
      body: body,
      keepalive: !!leaving,
    }).then(function (response) {
      return response.json().then(function (data) { show(data, response.ok); });
    }).catch(function () { /* offline: the next report covers the range again */ });
  }

  var media = box.querySelector("[data-media]");
  if (media) {
    var from = null;   // where the range being played started
    var last = 0;      // the latest position seen while playing
    var timer = null;

    var flush = function (leaving) {
      if (from === null) return;
      var to = last;
      if (to > from) send(from, to, leaving);
      from = null;
    };
    var beat = function () {
      if (from === null || media.paused) return;
      last = media.currentTime;
      if (last > from) {
        send(from, last);
        from = last;
      }
    };
    media.addEventListener("playing", function () {
      from = last = media.currentTime;
      send(from, from); // starts the server's clock: nothing is counted before the first report
      clearInterval(timer);
      timer = setInterval(beat, INTERVAL);
    });
    media.addEventListener("seeked", function () {
      if (media.paused) return;
      from = last = media.currentTime;
      clearInterval(timer);
      timer = setInterval(beat, INTERVAL);
    });
    media.addEventListener("timeupdate", function () {
      if (from !== null && !media.seeking) last = media.currentTime;
    });
    ["pause", "ended", "seeking"].forEach(function (name) {
      media.addEventListener(name, function () {
        clearInterval(timer);
        flush(false);
      });
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden" && media.tagName === "VIDEO" && !media.paused) media.pause();
    });
    window.addEventListener("pagehide", function () { flush(true); });
    return;
  }

  // Reading: courseware (PDF) and articles.
  var reader = box.querySelector("[data-reader]");
  var position = Math.min(parseInt(box.dataset.resume, 10) || 0, duration);
  var lastActive = Date.now();
  ["scroll", "wheel", "touchstart", "pointerdown", "keydown", "mousemove"].forEach(function (name) {
    window.addEventListener(name, function () { lastActive = Date.now(); }, { passive: true });
  });
  var reading = function () {
    if (document.visibilityState !== "visible") return false;
    if (reader && reader.tagName === "IFRAME" && document.activeElement === reader) return true;
    return Date.now() - lastActive < IDLE_AFTER;
  };
  var clockStarted = false;
  var startClock = function () {
    if (done || clockStarted || !reading()) return;
    clockStarted = true;
    send(position, position);
  };
  startClock();
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { clockStarted = false; lastActive = Date.now(); startClock(); }
  });
  setInterval(function () {
    if (done || position >= duration) return;
    if (!reading()) { clockStarted = false; return; }
    if (!clockStarted) { startClock(); return; }
    var next = Math.min(duration, position + INTERVAL / 1000);
    send(position, next);
    position = next;
  }, INTERVAL);
})();

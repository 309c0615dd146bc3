/* Taking an exam or a practice round (templates/exams/take.html), on a phone first.
 *
 * - Every answer goes to the server as it is given (exam: on each change, text after a short pause;
 *   practice: on 确定, which also returns the marking). One request per question at a time; a
 *   change made meanwhile is sent when it returns, so an older answer never overwrites a newer one.
 * - Until the server acknowledges it, an answer is kept in localStorage under the attempt; after a
 *   reload or when the network comes back it is filled in again and re-sent, unless the server
 *   holds a newer one (saved later from another device).
 * - The countdown runs from the seconds the server said remain (never the phone's clock); at 0 the
 *   page saves what it can and submits (the server's grace covers the network).
 * - 交卷 asks to confirm and names the questions not answered; the submit is idempotent. */
(function () {
  "use strict";

  var root = document.querySelector("[data-take]");
  if (!root) return;

  var attemptId = root.dataset.attempt;
  var csrf = root.dataset.csrf;
  var practice = root.dataset.practice === "1";
  var timed = root.dataset.timed === "1";
  var saveUrl = practice ? root.dataset.checkUrl : root.dataset.answerUrl;
  var submitUrl = root.dataset.submitUrl;
  var STORE = "pe-exam-" + attemptId;
  var MODE = "pe-exam-mode";
  var SEP = "｜";
  // Server time minus this phone's time, to compare a kept answer with the server's saved_at.
  var offset = (parseInt(root.dataset.serverNow, 10) || Date.now()) - Date.now();

  var sections = Array.prototype.slice.call(root.querySelectorAll("[data-question]"));
  var byId = {};
  sections.forEach(function (section) { byId[section.dataset.question] = section; });
  var grid = root.querySelector("#take-grid");
  var progress = root.querySelector("[data-progress]");
  var offlineNote = root.querySelector("[data-offline]");
  var form = root.querySelector("#take-form");
  var prevButton = root.querySelector("[data-prev]");
  var nextButton = root.querySelector("[data-next]");
  var modeButton = root.querySelector("[data-toggle-mode]");
  var busy = root.querySelector("[data-busy]");

  var inflight = {};   // question id → the request while one is out
  var acked = {};      // question id → the answer the server last acknowledged (as JSON)
  var retryTimer = null;
  var retryDelay = 2000;
  var closed = false;  // the server said no more answers are taken
  var submitting = false;

  // --- storage of answers the server has not acknowledged --------------------------------------------

  function readStore() {
    try { return JSON.parse(window.localStorage.getItem(STORE) || "{}") || {}; } catch (e) { return {}; }
  }
  function writeStore(data) {
    try {
      if (Object.keys(data).length) window.localStorage.setItem(STORE, JSON.stringify(data));
      else window.localStorage.removeItem(STORE);
    } catch (e) { /* private mode or full: the answer is still on its way to the server */ }
  }
  function keep(qid, value) {
    var data = readStore();
    data[qid] = { v: value, t: Date.now() + offset };
    writeStore(data);
  }
  function forget(qid, value) {
    var data = readStore();
    if (data[qid] && JSON.stringify(data[qid].v) === JSON.stringify(value)) {
      delete data[qid];
      writeStore(data);
    }
  }
  function pendingIds() { return Object.keys(readStore()); }

  // --- reading and writing a question's inputs -------------------------------------------------------

  function inputs(section) { return Array.prototype.slice.call(section.querySelectorAll("input, textarea")); }

  function valueOf(section) {
    var qtype = section.dataset.qtype;
    var fields = inputs(section);
    if (qtype === "single" || qtype === "multiple") {
      var letters = fields.filter(function (i) { return i.checked; }).map(function (i) { return i.value; });
      return letters.length ? letters.sort().join("") : null;
    }
    if (qtype === "judge") {
      var chosen = fields.filter(function (i) { return i.checked; })[0];
      return chosen ? chosen.value === "true" : null;
    }
    if (qtype === "fill") {
      var parts = fields.map(function (i) { return i.value.split(SEP).join(" "); });
      var any = parts.some(function (p) { return p.trim() !== ""; });
      return any ? (parts.length > 1 ? parts.join(SEP) : parts[0]) : null;
    }
    var text = fields[0] ? fields[0].value : "";
    return text.trim() ? text : null;
  }

  function setValue(section, value) {
    var qtype = section.dataset.qtype;
    var fields = inputs(section);
    if (qtype === "single" || qtype === "multiple") {
      fields.forEach(function (i) { i.checked = typeof value === "string" && value.indexOf(i.value) >= 0; });
    } else if (qtype === "judge") {
      fields.forEach(function (i) { i.checked = value !== null && String(value) === i.value; });
    } else if (qtype === "fill") {
      var parts = value === null ? [] : String(value).split(SEP);
      if (parts.length > fields.length) parts = parts.slice(0, fields.length - 1).concat([parts.slice(fields.length - 1).join(SEP)]);
      fields.forEach(function (i, n) { i.value = parts[n] || ""; });
    } else if (fields[0]) {
      fields[0].value = value === null ? "" : value;
    }
  }

  function answered(section) { return valueOf(section) !== null; }

  // --- what the member sees about each question ------------------------------------------------------

  var STATUS = {
    saved: ["text-success", "bi-check-circle", "已保存"],
    saving: ["text-muted", "bi-arrow-repeat", "保存中…"],
    retry: ["text-danger", "bi-exclamation-triangle", "未保存，正在重试"],
    error: ["text-danger", "bi-x-circle", ""],
    local: ["text-warning", "bi-phone", "已暂存本机，待保存"]
  };

  function showStatus(section, state, detail) {
    var box = section.querySelector("[data-save-status]");
    if (!box) return;
    box.textContent = "";
    if (!state) return;
    var s = STATUS[state];
    var span = document.createElement("span");
    span.className = s[0];
    var icon = document.createElement("i");
    icon.className = "bi " + s[1];
    icon.setAttribute("aria-hidden", "true");
    span.appendChild(icon);
    span.appendChild(document.createTextNode(" " + (detail || s[2])));
    box.appendChild(span);
    if (state === "retry" || state === "error") {
      var again = document.createElement("button");
      again.type = "button";
      again.className = "btn btn-link btn-sm p-0 ms-2 align-baseline";
      again.textContent = "重试";
      again.addEventListener("click", function () { send(section.dataset.question); });
      box.appendChild(again);
    }
    section.dataset.state = state;
    refreshGrid();
  }

  function refreshGrid() {
    var count = 0;
    var waiting = pendingIds();
    sections.forEach(function (section) {
      var done = answered(section);
      if (done) count += 1;
      if (!grid) return;
      var cell = grid.querySelector('[data-grid="' + section.dataset.question + '"]');
      if (!cell) return;
      cell.classList.toggle("btn-danger", done);
      cell.classList.toggle("btn-outline-secondary", !done);
      cell.classList.toggle("pe-unsaved", waiting.indexOf(section.dataset.question) >= 0);
    });
    if (progress) progress.textContent = "已答 " + count + "/" + sections.length;
  }

  // --- saving --------------------------------------------------------------------------------------

  function post(url, body, json) {
    var headers = { "X-CSRFToken": csrf, "Accept": "application/json" };
    if (json) headers["Content-Type"] = "application/json";
    return fetch(url, {
      method: "POST",
      headers: headers,
      credentials: "same-origin",
      body: body
    });
  }

  function scheduleRetry() {
    if (retryTimer || closed) return;
    retryTimer = window.setTimeout(function () {
      retryTimer = null;
      retryDelay = Math.min(retryDelay * 2, 30000);
      flushAll();
    }, retryDelay);
  }

  function send(qid) {
    var section = byId[qid];
    var kept = readStore()[qid];
    if (!section || !kept || closed) return Promise.resolve();
    if (inflight[qid]) return inflight[qid];
    var value = kept.v;
    showStatus(section, "saving");
    var request = post(saveUrl, JSON.stringify({ question: parseInt(qid, 10), answer: value }), true)
      .then(function (response) {
        return response.json().catch(function () { return null; }).then(function (data) {
          // A session that ended answers with the sign-in page (a redirect), not with JSON.
          var signedOut = response.redirected || data === null;
          return { ok: response.ok && !signedOut, signedOut: signedOut, status: response.status, data: data || {} };
        });
      })
      .then(function (result) {
        delete inflight[qid];
        if (offlineNote) offlineNote.classList.add("d-none");
        if (result.ok) {
          retryDelay = 2000;
          acked[qid] = JSON.stringify(value);
          forget(qid, value);
          if (practice) showFeedback(section, result.data);
          var now = readStore()[qid];
          if (now && !practice) return send(qid); // changed while this one was out
          showStatus(section, "saved");
          return null;
        }
        if (result.signedOut && result.status < 500) {
          showStatus(section, "error", "登录已过期，答案已暂存本机，请重新登录后继续");
          signIn();
          return null;
        }
        if (result.status >= 500 || result.status === 429) {
          showStatus(section, "retry");
          scheduleRetry();
          return null;
        }
        // Refused: the answer cannot be saved as it is (the message says why).
        forget(qid, value);
        var detail = (result.data && result.data.detail) || "未保存";
        showStatus(section, "error", detail);
        if (result.data && result.data.closed) {
          closed = true;
          finish(true);
        }
        return null;
      })
      .catch(function () {
        delete inflight[qid];
        if (offlineNote) offlineNote.classList.remove("d-none");
        showStatus(section, "retry");
        scheduleRetry();
      });
    inflight[qid] = request;
    return request;
  }

  var signInShown = false;
  function signIn() {
    // The kept answers stay in localStorage; back on this page after signing in they are sent.
    if (signInShown) return;
    signInShown = true;
    if (window.confirm("登录已过期。答案已暂存在本机，重新登录后回到本页会自动保存。现在去登录吗？")) {
      window.location.assign(root.dataset.loginUrl + "?next=" + encodeURIComponent(window.location.pathname));
    }
  }

  function flushAll() {
    return Promise.all(pendingIds().map(send));
  }

  function record(section) {
    if (closed) return;
    var qid = section.dataset.question;
    var value = valueOf(section);
    if (JSON.stringify(value) === acked[qid] && !readStore()[qid]) return; // the server has it already
    keep(qid, value);
    showStatus(section, "local");
    if (!practice) send(qid);
  }

  // --- exam mode: save on every change; practice mode: save and mark on 确定 ----------------------------

  var timers = {};
  sections.forEach(function (section) {
    var qid = section.dataset.question;
    section.addEventListener("change", function () {
      if (practice) { refreshGrid(); return; }
      window.clearTimeout(timers[qid]);
      record(section);
    });
    section.addEventListener("input", function (event) {
      if (practice || event.target.type === "radio" || event.target.type === "checkbox") return;
      window.clearTimeout(timers[qid]);
      timers[qid] = window.setTimeout(function () { timers[qid] = null; record(section); }, event.target.tagName === "TEXTAREA" ? 800 : 600);
    });
    var check = section.querySelector("[data-check]");
    if (check) {
      check.addEventListener("click", function () {
        if (valueOf(section) === null) { showStatus(section, "error", "请先作答再确定"); return; }
        keep(qid, valueOf(section));
        send(qid);
      });
    }
  });

  function text(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content) node.textContent = content;
    return node;
  }

  function showFeedback(section, data) {
    var box = section.querySelector("[data-feedback]");
    var fieldset = section.querySelector("fieldset");
    var check = section.querySelector("[data-check]");
    if (fieldset) fieldset.disabled = true;
    if (check) check.classList.add("d-none");
    section.dataset.checked = "1";
    if (!box) return;
    box.textContent = "";
    var alert;
    if (section.dataset.qtype === "essay") {
      alert = text("div", "alert alert-secondary mb-0");
      alert.appendChild(text("div", "fw-semibold", "参考答案"));
      alert.appendChild(text("div", "pe-take-text", data.reference_answer || "—"));
    } else {
      alert = text("div", "alert mb-0 " + (data.correct ? "alert-success" : "alert-danger"));
      alert.dataset.result = data.correct ? "correct" : "wrong";
      alert.appendChild(text("div", "fw-semibold fs-5", data.correct ? "✓ 回答正确" : "✗ 回答错误"));
      var key = text("div", "", "正确答案：");
      key.appendChild(text("span", "fw-semibold", data.key_text || ""));
      alert.appendChild(key);
    }
    if (data.explanation) {
      var why = text("div", "mt-2");
      why.appendChild(text("span", "fw-semibold", "解析："));
      why.appendChild(text("span", "pe-take-text", data.explanation));
      alert.appendChild(why);
    }
    box.appendChild(alert);
  }

  // --- one question per screen ---------------------------------------------------------------------

  var current = 0;
  var single = true;
  try { single = window.localStorage.getItem(MODE) !== "all"; } catch (e) { single = true; }

  function show(index, focus) {
    current = Math.max(0, Math.min(sections.length - 1, index));
    sections.forEach(function (section, n) { section.classList.toggle("d-none", single && n !== current); });
    if (prevButton) { prevButton.classList.toggle("d-none", !single); prevButton.disabled = current === 0; }
    if (nextButton) { nextButton.classList.toggle("d-none", !single); nextButton.disabled = current === sections.length - 1; }
    if (grid) {
      Array.prototype.forEach.call(grid.querySelectorAll("[data-goto]"), function (cell) {
        var here = parseInt(cell.dataset.goto, 10) === current;
        cell.classList.toggle("pe-current", here);
        if (here) cell.setAttribute("aria-current", "step"); else cell.removeAttribute("aria-current");
      });
    }
    if (modeButton) {
      modeButton.textContent = single ? "整卷显示" : "逐题显示";
      modeButton.setAttribute("aria-pressed", single ? "false" : "true");
    }
    if (focus && sections[current]) {
      if (single) window.scrollTo(0, 0);
      else sections[current].scrollIntoView({ block: "start" });
      var legend = sections[current].querySelector("legend");
      if (legend) { legend.setAttribute("tabindex", "-1"); legend.focus({ preventScroll: true }); }
    }
  }

  if (prevButton) prevButton.addEventListener("click", function () { show(current - 1, true); });
  if (nextButton) nextButton.addEventListener("click", function () { show(current + 1, true); });
  if (modeButton) {
    modeButton.addEventListener("click", function () {
      single = !single;
      try { window.localStorage.setItem(MODE, single ? "one" : "all"); } catch (e) { /* ignore */ }
      show(current, true);
    });
  }
  var gridToggle = root.querySelector("[data-toggle-grid]");
  if (gridToggle && grid) {
    gridToggle.addEventListener("click", function () {
      var open = grid.classList.toggle("d-none") === false;
      gridToggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
    grid.addEventListener("click", function (event) {
      var cell = event.target.closest("[data-goto]");
      if (cell) show(parseInt(cell.dataset.goto, 10), true);
    });
  }

  // --- submitting ----------------------------------------------------------------------------------

  function waitForSaves(limitMs) {
    return Promise.race([
      flushAll(),
      new Promise(function (resolve) { window.setTimeout(resolve, limitMs); })
    ]);
  }

  function finish(automatic) {
    if (submitting) return;
    submitting = true;
    if (busy) {
      busy.classList.remove("d-none");
      busy.querySelector("[data-busy-text]").textContent = automatic ? "时间到，正在交卷…" : "正在交卷…";
    }
    var attemptSubmit = function () {
      post(submitUrl, new FormData(form), false)
        .then(function (response) {
          if (response.redirected) {
            submitting = false;
            if (busy) busy.classList.add("d-none");
            signIn();
            return new Promise(function () {}); // nothing more to do on this page
          }
          if (!response.ok) throw new Error("status " + response.status);
          return response.json();
        })
        .then(function (data) {
          writeStore({});
          window.location.assign(data.result_url);
        })
        .catch(function () {
          if (busy) busy.querySelector("[data-busy-text]").textContent = "网络不通，恢复后将自动交卷…";
          window.setTimeout(attemptSubmit, 3000);
        });
    };
    (closed ? Promise.resolve() : waitForSaves(8000)).then(attemptSubmit);
  }

  var confirmBox = document.getElementById("take-confirm");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!confirmBox || typeof bootstrap === "undefined") { finish(false); return; }
    var missing = sections.filter(function (s) { return !answered(s); }).map(function (s) { return s.dataset.position; });
    var line = confirmBox.querySelector("[data-confirm-unanswered]");
    line.textContent = missing.length
      ? "第" + missing.join("、") + "题还没有作答（共" + missing.length + "题）。"
      : "全部" + sections.length + "道题都已作答。";
    var unsaved = pendingIds().length;
    var warn = confirmBox.querySelector("[data-confirm-unsaved]");
    warn.classList.toggle("d-none", !unsaved);
    warn.textContent = unsaved ? unsaved + "道题的答案还没有保存到服务器，交卷前会再试一次。" : "";
    bootstrap.Modal.getOrCreateInstance(confirmBox).show();
  });
  if (confirmBox) {
    confirmBox.querySelector("[data-confirm-submit]").addEventListener("click", function () {
      bootstrap.Modal.getOrCreateInstance(confirmBox).hide();
      finish(false);
    });
  }

  // --- the countdown -------------------------------------------------------------------------------

  var clock = root.querySelector("[data-clock]");
  var remaining = parseInt(root.dataset.remaining, 10);
  if (isNaN(remaining)) remaining = 0;
  var startedAt = window.performance.now();

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var left = Math.max(0, Math.round(remaining - (window.performance.now() - startedAt) / 1000));
    if (clock) {
      var days = Math.floor(left / 86400);
      var h = Math.floor((left % 86400) / 3600);
      var m = Math.floor((left % 3600) / 60);
      var s = left % 60;
      clock.textContent = (days ? days + "天 " : "") + (days || h ? h + ":" + pad(m) : pad(m)) + ":" + pad(s);
      clock.classList.toggle("pe-low", left <= 60);
      clock.setAttribute("aria-label", "剩余时间" + (days ? days + "天" : "") + (h ? h + "小时" : "") + m + "分" + s + "秒");
    }
    if (left <= 0 && timed) { finish(true); return; }
    window.setTimeout(tick, 1000 - ((window.performance.now() - startedAt) % 1000));
  }

  // --- start: put back what this phone kept and the server does not have yet --------------------------

  sections.forEach(function (section) { acked[section.dataset.question] = JSON.stringify(valueOf(section)); });
  var kept = readStore();
  Object.keys(kept).forEach(function (qid) {
    var section = byId[qid];
    var serverSaved = section ? parseInt(section.dataset.savedAt, 10) || 0 : 0;
    if (!section || section.dataset.checked === "1" || serverSaved > kept[qid].t) {
      delete kept[qid];
      return;
    }
    setValue(section, kept[qid].v);
    showStatus(section, "local");
  });
  writeStore(kept);
  window.addEventListener("online", function () { retryDelay = 2000; flushAll(); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      Object.keys(timers).forEach(function (qid) {
        if (timers[qid]) { window.clearTimeout(timers[qid]); timers[qid] = null; if (!practice) record(byId[qid]); }
      });
    }
  });

  show(0, false);
  refreshGrid();
  flushAll();
  if (remaining <= 0 && timed) finish(true);
  else tick();
})();

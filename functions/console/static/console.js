/* OnPace console: reads the audit log API and renders it.
 * Every piece of data reaches the page through textContent or setAttribute, never as HTML. */
(function () {
  "use strict";

  var body = document.body;
  var base = window.location.pathname.replace(/\/+$/, "");
  var AUDIT_URL = base + "/api/audit";
  var VERIFY_URL = base + "/api/audit/verify";
  var PAGE_SIZE = parseInt(body.getAttribute("data-default-limit") || "50", 10);
  var COLUMNS = 8;

  var form = document.getElementById("filters");
  var studentInput = document.getElementById("filter-student");
  var ruleInput = document.getElementById("filter-rule");
  var studentList = document.getElementById("student-ids");
  var ruleList = document.getElementById("rule-ids");
  var clearButton = document.getElementById("clear-filters");
  var rows = document.getElementById("audit-rows");
  var statusLine = document.getElementById("log-status");
  var errorBox = document.getElementById("log-error");
  var emptyBox = document.getElementById("log-empty");
  var olderButton = document.getElementById("load-older");
  var verifyButton = document.getElementById("verify");
  var verifyResult = document.getElementById("verify-result");

  var state = {
    student: "",
    rule: "",
    nextBefore: null,
    shown: 0,
    request: 0,
    seenStudents: new Set(),
    seenRules: new Set()
  };

  // ---------------------------------------------------------------------------------------
  // Small DOM helpers (text only).

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        var value = attrs[name];
        if (value === null || value === undefined || value === false) return;
        if (name === "text") node.textContent = String(value);
        else if (name === "className") node.className = value;
        else node.setAttribute(name, String(value));
      });
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function orNone(value, className) {
    if (value === null || value === undefined || value === "") {
      return el("span", { className: "none", text: "—", "aria-label": "none" });
    }
    return el("span", { className: className || "id", text: value });
  }

  function formatInstant(at) {
    // "2026-03-02T15:04:05.000000Z" -> "2026-03-02 15:04:05 UTC"
    if (typeof at !== "string" || at.length < 19) return String(at || "");
    return at.slice(0, 10) + " " + at.slice(11, 19) + " UTC";
  }

  function localInstant(at) {
    if (typeof at !== "string" || at.length < 19) return "";
    var parsed = new Date(at.slice(0, 23).replace(/Z?$/, "") + "Z");
    return isNaN(parsed.getTime()) ? "" : parsed.toLocaleString();
  }

  function display(value) {
    if (value === null || value === undefined) return "—";
    if (typeof value === "object") return JSON.stringify(value, null, 2);
    return String(value);
  }

  // ---------------------------------------------------------------------------------------
  // Rendering.

  function definitionList(object) {
    var list = el("dl");
    Object.keys(object).sort().forEach(function (key) {
      var value = object[key];
      list.appendChild(el("dt", { text: key }));
      var dd = el("dd");
      if (value !== null && typeof value === "object") dd.appendChild(el("pre", { text: display(value) }));
      else dd.textContent = display(value);
      list.appendChild(dd);
    });
    return list;
  }

  function recipientText(recipient) {
    if (recipient === null || typeof recipient !== "object") return display(recipient);
    var parts = [];
    if (recipient.role) parts.push(recipient.role + ":");
    if (recipient.name) parts.push(recipient.name);
    if (recipient.address) parts.push(recipient.name ? "<" + recipient.address + ">" : recipient.address);
    if (recipient.language) parts.push("(" + recipient.language + ")");
    var known = { role: 1, name: 1, address: 1, language: 1 };
    Object.keys(recipient).forEach(function (key) {
      if (!known[key] && recipient[key] !== null && recipient[key] !== undefined) {
        parts.push(key + "=" + display(recipient[key]));
      }
    });
    return parts.length ? parts.join(" ") : JSON.stringify(recipient);
  }

  function detailSection(title, content, testid) {
    return el("section", { "data-testid": testid }, [el("h3", { text: title }), content]);
  }

  function detailContent(entry) {
    var detail = entry.detail;
    var grid = el("div", { className: "detail-grid" });
    var rest = {};
    if (detail !== null && typeof detail === "object" && !Array.isArray(detail)) {
      Object.keys(detail).forEach(function (key) {
        if (key !== "facts" && key !== "deadlines" && key !== "recipients") rest[key] = detail[key];
      });
      if (detail.facts && typeof detail.facts === "object") {
        grid.appendChild(detailSection("Facts", definitionList(detail.facts), "detail-facts"));
      }
      if (detail.deadlines && typeof detail.deadlines === "object") {
        grid.appendChild(detailSection("Deadlines", definitionList(detail.deadlines), "detail-deadlines"));
      }
      if (Array.isArray(detail.recipients)) {
        var list = el("ul");
        detail.recipients.forEach(function (recipient) {
          list.appendChild(el("li", { text: recipientText(recipient) }));
        });
        if (!detail.recipients.length) list.appendChild(el("li", { className: "none", text: "none" }));
        grid.appendChild(detailSection("Recipients", list, "detail-recipients"));
      }
    } else if (detail !== null && detail !== undefined) {
      rest.detail = detail;
    }
    if (Object.keys(rest).length) {
      grid.appendChild(detailSection("Other detail", definitionList(rest), "detail-other"));
    }
    grid.appendChild(detailSection("Record", definitionList({
      seq: entry.seq,
      actor: entry.actor,
      program: entry.program_id,
      notice: entry.notice_id,
      hash: entry.hash,
      previous_hash: entry.prev_hash
    }), "detail-record"));
    return grid;
  }

  function renderEntry(entry) {
    var detailId = "detail-" + entry.seq;
    var kind = String(entry.type || "").split(".")[0];
    var toggle = el("button", {
      type: "button",
      className: "toggle",
      "aria-expanded": "false",
      "aria-controls": detailId,
      "data-testid": "toggle-detail",
      text: "Details"
    });
    toggle.setAttribute("aria-label", "Details of entry " + entry.seq);

    var when = el("td", null, [
      el("span", { className: "when-on", text: entry.on || "—" }),
      el("time", { className: "when-at", datetime: entry.at, title: localInstant(entry.at), text: formatInstant(entry.at) }),
      el("span", { className: "seq", text: "#" + entry.seq })
    ]);
    var row = el("tr", {
      className: "entry",
      "data-testid": "audit-row",
      "data-seq": entry.seq,
      "data-student": entry.student_id || "",
      "data-rule": entry.rule_id || "",
      "data-type": entry.type || ""
    }, [
      when,
      el("td", null, [el("span", {
        className: "type",
        "data-kind": kind,
        "data-failed": /failed|rejected/.test(entry.type || "") ? "true" : null,
        text: entry.type
      })]),
      el("td", { className: "nowrap", "data-testid": "cell-rule" }, [orNone(entry.rule_id)]),
      el("td", { className: "nowrap", "data-testid": "cell-policy" }, [orNone(entry.policy_version)]),
      el("td", { "data-testid": "cell-student" }, [orNone(entry.student_id)]),
      el("td", { "data-testid": "cell-class" }, [orNone(entry.class_id)]),
      el("td", { className: "summary", "data-testid": "cell-summary", text: entry.summary }),
      el("td", null, [toggle])
    ]);

    var detailRow = el("tr", { className: "detail", id: detailId, "data-testid": "audit-detail", hidden: "hidden" }, [
      el("td", { colspan: COLUMNS }, [detailContent(entry)])
    ]);
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", open ? "false" : "true");
      toggle.textContent = open ? "Details" : "Hide";
      detailRow.hidden = open;
    });
    return [row, detailRow];
  }

  function remember(set, list, value) {
    if (!value || set.has(value)) return;
    set.add(value);
    var values = Array.from(set).sort();
    clear(list);
    values.forEach(function (item) { list.appendChild(el("option", { value: item })); });
  }

  function describeFilters() {
    var parts = [];
    if (state.student) parts.push("student " + state.student);
    if (state.rule) parts.push("rule " + state.rule);
    return parts.length ? " for " + parts.join(", ") : "";
  }

  function updateStatus() {
    var noun = state.shown === 1 ? "entry" : "entries";
    statusLine.textContent = "Showing " + state.shown + " " + noun + describeFilters() + ", newest first" +
      (state.nextBefore !== null ? " (older entries available)" : "") + ".";
    emptyBox.hidden = state.shown !== 0;
    olderButton.hidden = state.nextBefore === null;
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  // ---------------------------------------------------------------------------------------
  // Data.

  function getJson(url) {
    return fetch(url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store"
    }).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (ignored) { data = null; }
        if (!response.ok) {
          var message = data && typeof data.message === "string" ? data.message : "HTTP " + response.status;
          throw new Error(message);
        }
        return data;
      });
    });
  }

  function load(reset) {
    var request = ++state.request;
    var params = new URLSearchParams();
    if (state.student) params.set("student", state.student);
    if (state.rule) params.set("rule", state.rule);
    if (!reset && state.nextBefore !== null) params.set("before", String(state.nextBefore));
    params.set("limit", String(PAGE_SIZE));
    errorBox.hidden = true;
    olderButton.disabled = true;
    body.setAttribute("data-loading", "true");
    if (reset) statusLine.textContent = "Loading…";

    return getJson(AUDIT_URL + "?" + params.toString()).then(function (page) {
      if (request !== state.request) return; // a newer search replaced this one
      if (reset) {
        clear(rows);
        state.shown = 0;
      }
      page.entries.forEach(function (entry) {
        renderEntry(entry).forEach(function (node) { rows.appendChild(node); });
        remember(state.seenRules, ruleList, entry.rule_id);
        remember(state.seenStudents, studentList, entry.student_id);
      });
      state.shown += page.entries.length;
      state.nextBefore = page.next_before === null || page.next_before === undefined ? null : page.next_before;
      updateStatus();
    }).catch(function (error) {
      if (request !== state.request) return;
      showError("Could not load the audit log: " + error.message);
      statusLine.textContent = "";
    }).then(function () {
      if (request !== state.request) return;
      olderButton.disabled = false;
      body.setAttribute("data-loading", "false");
    });
  }

  function applyFilters(event) {
    if (event) event.preventDefault();
    state.student = studentInput.value.trim();
    state.rule = ruleInput.value.trim();
    state.nextBefore = null;
    var params = new URLSearchParams();
    if (state.student) params.set("student", state.student);
    if (state.rule) params.set("rule", state.rule);
    var query = params.toString();
    window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : ""));
    return load(true);
  }

  function verify() {
    verifyButton.disabled = true;
    verifyResult.setAttribute("data-state", "checking");
    verifyResult.removeAttribute("data-broken-seq");
    verifyResult.textContent = "Checking every entry…";
    Array.prototype.forEach.call(rows.querySelectorAll("tr.broken"), function (row) {
      row.classList.remove("broken");
    });
    getJson(VERIFY_URL).then(function (report) {
      verifyResult.setAttribute("data-intact", report.intact ? "true" : "false");
      if (report.intact) {
        verifyResult.setAttribute("data-state", "intact");
        verifyResult.textContent = report.entries
          ? "Intact: all " + report.entries + " entries verified."
          : "Intact: the log has no entries yet.";
        return;
      }
      verifyResult.setAttribute("data-state", "broken");
      verifyResult.setAttribute("data-broken-seq", String(report.first_broken_seq));
      verifyResult.textContent = "Broken at entry #" + report.first_broken_seq + ": " +
        (report.problem || "hash mismatch") + ".";
      Array.prototype.forEach.call(rows.querySelectorAll("tr.entry"), function (row) {
        if (row.getAttribute("data-seq") === String(report.first_broken_seq)) row.classList.add("broken");
      });
    }).catch(function (error) {
      verifyResult.setAttribute("data-state", "error");
      verifyResult.textContent = "Could not verify the log: " + error.message;
    }).then(function () {
      verifyButton.disabled = false;
    });
  }

  // ---------------------------------------------------------------------------------------
  // Wiring.

  form.addEventListener("submit", applyFilters);
  clearButton.addEventListener("click", function () {
    studentInput.value = "";
    ruleInput.value = "";
    applyFilters(null);
  });
  olderButton.addEventListener("click", function () { load(false); });
  verifyButton.addEventListener("click", verify);

  var initial = new URLSearchParams(window.location.search);
  studentInput.value = initial.get("student") || "";
  ruleInput.value = initial.get("rule") || "";
  applyFilters(null);
})();

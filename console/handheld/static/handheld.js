// The engagement officer's handheld page. No inline script (the CSP forbids it); nothing kept on the
// phone: images are fetched into blob: URLs, revoked when the incident closes, expires, or the phone
// is signed out or unpaired; the pairing code is read from the URL's fragment and removed from it.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const POST_HEADERS = { "Content-Type": "application/json", "X-ORC-Handheld": "1" };
  const TEXT_FIELDS = ["summary", "subject", "camera", "place", "time", "operator", "note", "category", "reason", "legal-basis",
    "instructions"];
  const IMAGES = ["capture", "face", "photo"];
  const POLL_MS = 2000;
  let paired = false;
  let source = null;
  let pollTimer = null;
  let openTimer = null;
  let shown = null; // the dispatch id on screen
  let blobs = [];
  let polls = 0;
  let refreshing = false;
  let again = false;
  const done = new Set(); // dispatches closed from this page

  function show(id, on) { $(id).hidden = !on; }

  async function call(path, options) {
    const response = await fetch(path, Object.assign({ credentials: "same-origin", cache: "no-store" }, options || {}));
    if (response.status === 401 && paired) {
      unpaired();
    }
    return response;
  }

  async function errorOf(response) {
    try {
      const body = await response.json();
      return body.error || ("refused (" + response.status + ")");
    } catch (e) {
      return "refused (" + response.status + ")";
    }
  }

  function post(path, body) {
    return call(path, { method: "POST", headers: POST_HEADERS, body: JSON.stringify(body || {}) });
  }

  // -- pairing ---------------------------------------------------------------------------------
  function label() {
    const ua = navigator.userAgent;
    const m = ua.match(/\(([^)]*)\)/);
    return (m ? m[1] : ua).slice(0, 60);
  }

  async function pair(code) {
    show("pair-error", false);
    const response = await post("/api/pair", { code: code, label: label() });
    if (response.ok) {
      $("pair-code").value = "";
      onPaired(await response.json());
      return;
    }
    showPairForm();
    $("pair-error").textContent = await errorOf(response);
    show("pair-error", true);
  }

  function showPairForm() {
    show("status", false);
    show("unpaired", false);
    show("pair-form", true);
  }

  function onPaired(me) {
    paired = true;
    $("officer").textContent = me.display_name || me.officer;
    show("status", false);
    show("pair-form", false);
    show("unpaired", false);
    show("bar", true);
    show("waiting", true);
    listen();
    if (pollTimer === null) {
      pollTimer = setInterval(poll, POLL_MS);
    }
    refresh();
  }

  function unpaired() {
    paired = false;
    closeIncident();
    if (source) { source.close(); source = null; }
    if (pollTimer !== null) { clearInterval(pollTimer); pollTimer = null; }
    done.clear();
    $("officer").textContent = "";
    $("pair-code").value = "";
    for (const id of ["bar", "status", "pair-form", "waiting", "incident", "outcome-done", "pair-error"]) {
      show(id, false);
    }
    show("unpaired", true);
  }

  // -- staying up to date: the event stream wakes the page, a poll of /api/me catches a revocation --
  function listen() {
    if (source) { source.close(); }
    source = new EventSource("/api/events");
    source.addEventListener("changed", refresh);
    source.addEventListener("unpaired", () => { checkMe(); });
    source.onerror = () => {
      if (source && source.readyState === EventSource.CLOSED) { source = null; }
    };
  }

  async function checkMe() {
    try {
      const response = await call("/api/me");
      return response.ok;
    } catch (e) {
      return false; // the network dropped: try again at the next poll
    }
  }

  async function poll() {
    const ok = await checkMe();
    if (!ok || !paired) { return; }
    if (!source) { listen(); }
    polls += 1;
    if (source.readyState !== EventSource.OPEN || polls % 5 === 0) { refresh(); } // and every 10 s in any case
  }

  // -- the incident -------------------------------------------------------------------------------
  async function refresh() {
    if (!paired) { return; }
    if (refreshing) { again = true; return; }
    refreshing = true;
    try {
      do {
        again = false;
        await refreshOnce();
      } while (again && paired);
    } catch (e) {
      // the network dropped: the next event or poll tries again
    } finally {
      refreshing = false;
    }
  }

  async function refreshOnce() {
    const response = await call("/api/inbox");
    if (!response.ok || !paired) { return; }
    const open = (await response.json()).filter((item) => item.state === "open" && !done.has(item.dispatch_id));
    if (shown !== null && !open.some((item) => item.dispatch_id === shown)) {
      closeIncident();
    }
    if (shown === null && open.length) {
      await loadCard(open[0].dispatch_id);
    }
    show("waiting", paired && shown === null && $("outcome-done").hidden);
  }

  // 24-hour local time and how long ago: "21:08:54 (2 min ago)".
  function when(iso) {
    const t = new Date(iso);
    const pad = (n) => String(n).padStart(2, "0");
    const mins = Math.max(0, Math.round((Date.now() - t.getTime()) / 60000));
    return pad(t.getHours()) + ":" + pad(t.getMinutes()) + ":" + pad(t.getSeconds())
      + (mins < 1 ? " (just now)" : " (" + mins + " min ago)");
  }

  async function loadCard(id) {
    const response = await call("/api/dispatch/" + id);
    if (!response.ok || !paired) { return; }
    const card = await response.json();
    if (card.state !== "open") { done.add(id); return; }
    shown = id;
    $("incident").dataset.dispatchId = String(id);
    $("subject").textContent = [card.subject_name, card.record_number].filter(Boolean).join(", ");
    $("camera").textContent = card.camera || "";
    $("place").textContent = card.place || "";
    $("time").textContent = card.captured_at ? when(card.captured_at) : "";
    $("summary").textContent = [card.subject_name, card.category, card.camera,
      card.captured_at ? when(card.captured_at) : ""].filter(Boolean).join(" \u00b7 ");
    $("operator").textContent = card.operator || "";
    $("note").textContent = card.operator_note || "";
    $("category").textContent = card.category || "";
    $("reason").textContent = card.reason || "";
    $("legal-basis").textContent = card.legal_basis || "";
    $("instructions").textContent = card.instructions || "";
    resetOutcome();
    show("outcome-done", false);
    show("waiting", false);
    show("incident", true);
    const left = Date.parse(card.open_until) - Date.now();
    openTimer = setTimeout(() => { done.add(id); closeIncident(); refresh(); }, Math.max(0, left));
    for (const which of IMAGES) {
      const has = which === "photo" ? card.has_photo : card.has_capture;
      if (has) { loadImage(id, which); }
    }
  }

  async function loadImage(id, which) {
    try {
      const response = await call("/api/dispatch/" + id + "/image/" + which);
      if (!response.ok) { return; }
      const blob = await response.blob();
      if (shown !== id || !paired) { return; } // closed while it came
      const url = URL.createObjectURL(blob);
      blobs.push(url);
      $(which).src = url;
    } catch (e) {
      // the image stays blank
    }
  }

  function closeIncident() {
    if (openTimer !== null) { clearTimeout(openTimer); openTimer = null; }
    for (const which of IMAGES) { $(which).removeAttribute("src"); }
    for (const url of blobs) { URL.revokeObjectURL(url); }
    blobs = [];
    for (const id of TEXT_FIELDS) { $(id).textContent = ""; }
    resetOutcome();
    delete $("incident").dataset.dispatchId;
    show("incident", false);
    shown = null;
  }

  // -- the outcome --------------------------------------------------------------------------------
  function resetOutcome() {
    $("outcome-form").reset();
    show("identity", false);
    show("outcome-error", false);
    $("outcome-submit").disabled = false;
  }

  function outcomeError(text) {
    $("outcome-error").textContent = text;
    show("outcome-error", true);
  }

  async function sendOutcome(event) {
    event.preventDefault();
    const id = shown;
    if (id === null) { return; }
    const located = $("located-yes").checked ? true : $("located-no").checked ? false : null;
    if (located === null) { outcomeError("Say whether the person was located."); return; }
    const same = located ? ($("same-person").checked ? true : $("not-person").checked ? false : null) : null;
    if (located && same === null) { outcomeError("Say whether checks by other means showed the same person."); return; }
    const action = $("action").value;
    if (located && !action) { outcomeError("Choose the action taken."); return; }
    $("outcome-submit").disabled = true;
    show("outcome-error", false);
    let response;
    try {
      response = await post("/api/dispatch/" + id + "/outcome",
        { located: located, same_person: same, action: action, note: $("outcome-note").value });
    } catch (e) {
      $("outcome-submit").disabled = false;
      outcomeError("Not sent: no connection. Try again, or tell the control room by radio.");
      return;
    }
    if (!paired) { return; }
    if (response.ok) {
      done.add(id);
      closeIncident();
      show("outcome-done", true);
      refresh();
      return;
    }
    $("outcome-submit").disabled = false;
    outcomeError(await errorOf(response));
    if (response.status === 409) { done.add(id); }
  }

  // -- start --------------------------------------------------------------------------------------
  async function start() {
    const code = decodeURIComponent(location.hash.replace(/^#/, ""));
    if (location.hash) {
      history.replaceState(null, "", location.pathname + location.search); // the code never stays in the URL
    }
    $("pair-form").addEventListener("submit", (event) => { event.preventDefault(); pair($("pair-code").value); });
    $("outcome-form").addEventListener("submit", sendOutcome);
    $("located-yes").addEventListener("change", () => show("identity", true));
    $("located-no").addEventListener("change", () => {
      show("identity", false);
      $("same-person").checked = false;
      $("not-person").checked = false;
    });
    $("signout").addEventListener("click", async () => {
      try { await post("/api/signout"); } catch (e) { /* cleared below all the same */ }
      unpaired();
    });
    window.addEventListener("pagehide", () => { closeIncident(); });
    let response = null;
    try {
      response = await call("/api/me");
    } catch (e) {
      $("status").textContent = "The handheld service cannot be reached. Reload when back in coverage.";
      return;
    }
    if (response.ok) {
      onPaired(await response.json());
    } else if (code) {
      await pair(code);
    } else {
      showPairForm();
    }
  }

  document.addEventListener("DOMContentLoaded", start);
})();

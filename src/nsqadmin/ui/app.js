// nsqadmin's web UI, the part every page shares: the server's settings, URLs, the
// API call, escaping and number formats, the warning/error boxes, the confirmation
// dialog, and the client-side router. The pages are in pages.js (which imports this
// module), the inline SVG drawings in charts.js; index.html hands the pages to
// start(). Plain modern JavaScript, no framework, no build step; every request goes
// to nsqadmin itself.

// ---------------------------------------------------------------------------
// Settings the server wrote into index.html.

/** {basePath: "/" or "/admin/", version, isAdmin, nsqlookupd: [...], sampleInterval} */
export const config = window.NSQADMIN;
const base = config.basePath.endsWith("/") ? config.basePath : config.basePath + "/";
/** The Streams page: the base path itself, "/admin" rather than "/admin/" (which redirects). */
const home = base === "/" ? "/" : base.slice(0, -1);

// ---------------------------------------------------------------------------
// URLs. Every URL is built from the base path, never relative to the current page.

/** One path segment: percent-encoded (a topic may end in "#ephemeral"), ":" kept. */
function segment(s) {
  return encodeURIComponent(s).replaceAll("%3A", ":");
}

/** The URL of a page: pageUrl("topics", "orders") → "/topics/orders"; pageUrl() → home. */
export function pageUrl(...parts) {
  return parts.length ? base + parts.map(segment).join("/") : home;
}

/** The URL of an API route: apiUrl("topics", "orders") → "/api/topics/orders". */
export function apiUrl(...parts) {
  return base + "api/" + parts.map(segment).join("/");
}

// ---------------------------------------------------------------------------
// HTML. Pages build their markup with the `html` template tag, which escapes every
// interpolated value (client user agents and hostnames come from the network)
// unless it is already markup made by `html` or wrapped with `raw`.

class Markup {
  constructor(text) { this.text = text; }
  toString() { return this.text; }
}

/** Marks a string as trusted markup (only for strings this UI made itself). */
export function raw(text) {
  return new Markup(String(text));
}

export function escapeHtml(value) {
  return String(value)
    .replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}

function interpolate(value) {
  if (value === null || value === undefined || value === false) return "";
  if (value instanceof Markup) return value.text;
  if (Array.isArray(value)) return value.map(interpolate).join("");
  return escapeHtml(value);
}

/** Tagged template: html`<td>${name}</td>` → Markup with `name` escaped. */
export function html(strings, ...values) {
  let out = strings[0];
  values.forEach((v, i) => { out += interpolate(v) + strings[i + 1]; });
  return new Markup(out);
}

// ---------------------------------------------------------------------------
// Numbers and durations.

/** 1234567 → "1,234,567"; missing → "". */
export function num(n) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return "";
  return Number(n).toLocaleString("en-US", { maximumFractionDigits: 2 });
}

/** At most two decimals, no trailing zeros: 229.8512 → "229.85". */
function short(x) {
  return String(Number(x.toFixed(2)));
}

/** Nanoseconds, humanised the way Go's nsqadmin does: "229.85ms", "2m7s", "3d4h0m12s". */
export function duration(ns) {
  if (ns === null || ns === undefined) return "";
  if (ns < 1e3) return `${Math.round(ns)}ns`;
  if (ns < 1e6) return `${short(ns / 1e3)}µs`;
  if (ns < 1e9) return `${short(ns / 1e6)}ms`;
  const total = ns / 1e9;
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  let out = "";
  if (days) out += `${days}d`;
  if (days || hours) out += `${hours}h`;
  if (days || hours || minutes) out += `${minutes}m`;
  return out + `${short(seconds)}s`;
}

/** Seconds as a window length: 3600 → "1h", 90 → "1m30s". */
export function seconds(s) {
  return duration(s * 1e9).replace(/(\D)0s$/, "$1").replace(/(\D)0m$/, "$1");
}

// ---------------------------------------------------------------------------
// The API. Every answer carries "message": on success a non-empty one is a warning
// (some nodes did not answer); on failure it is the error to show.

/** A non-2xx answer (or no answer at all). */
export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

/** Calls the API; resolves to the decoded JSON of a 2xx answer, else throws ApiError. */
export async function api(method, url, body) {
  const init = {
    method,
    headers: { "Accept": "application/vnd.nsq; version=1.0" },
    signal: AbortSignal.timeout(20000),
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (e) {
    throw new ApiError("ERROR: failed to connect to nsqadmin", 0);
  }
  const text = await response.text();
  let data;
  try {
    data = text === "" ? {} : JSON.parse(text);
  } catch (e) {
    const why = response.ok ? `ERROR: failed to decode JSON - ${e.message}` : text;
    throw new ApiError(why || `ERROR: ${response.status} ${response.statusText}`, response.status);
  }
  if (!response.ok) {
    throw new ApiError(data.message || `ERROR: ${response.status} ${response.statusText}`, response.status);
  }
  return data;
}

// ---------------------------------------------------------------------------
// The confirmation dialog (<dialog id="confirm"> in index.html).

/** Asks `question` (markup) in the page; resolves to true when "Yes" was pressed. */
export function confirmAction(question) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-question").innerHTML = String(question);
  dialog.returnValue = "";
  dialog.showModal();
  document.getElementById("confirm-no").focus();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
  });
}

// ---------------------------------------------------------------------------
// A page: the <main id="page"> element of the current route, its parts, its alerts
// and its timers. A new Page replaces the old one on every navigation, so a test (or
// a person) can tell a fresh page from a stale one by data-loaded.

/** Alerts an action hands over to the page it navigates to. */
let pendingNotices = [];

export class Page {
  constructor(name) {
    this.name = name;
    this.alive = true;
    this.timers = new Set();
    this.layout = null;     // the keys of the parts currently in the DOM
    this.parts = {};        // key → the markup last written there
    this.loadWarning = "";  // "message" of the latest load
    this.notices = pendingNotices; // [{kind: "warning"|"error"|"success", text}] from actions
    pendingNotices = [];

    this.main = document.createElement("main");
    this.main.id = "page";
    this.main.className = "container";
    this.main.dataset.page = name;
    this.main.innerHTML = '<div class="alerts"></div><div class="content"><div class="spinner" role="status" aria-label="loading"></div></div>';
    this.alerts = this.main.querySelector(".alerts");
    this.content = this.main.querySelector(".content");
    document.getElementById("page").replaceWith(this.main);
    this.main.addEventListener("click", (e) => this.dismiss(e));
    this.renderAlerts();
  }

  /** Stops timers; a page that is gone renders nothing more. */
  close() {
    this.alive = false;
    this.timers.forEach((t) => clearTimeout(t));
  }

  /** Sets document.title to "nsqadmin - <text>". */
  title(text) {
    document.title = text ? `nsqadmin - ${text}` : "nsqadmin";
  }

  /** Marks the first data load as done (tests wait for data-loaded="true"). */
  loaded() {
    this.main.dataset.loaded = "true";
  }

  /** Runs fn after ms milliseconds, unless the page is gone by then. */
  after(ms, fn) {
    const t = setTimeout(() => { this.timers.delete(t); if (this.alive) fn(); }, ms);
    this.timers.add(t);
  }

  /** GETs an API route; remembers its warning for the yellow box. */
  async get(url) {
    const data = await api("GET", url);
    this.loadWarning = data.message || "";
    return data;
  }

  /**
   * Loads and renders the page now, then every `every` seconds (0: once). `load()`
   * fetches and returns the page's parts (see render). An ApiError it throws becomes
   * the red box, or the parts `onError(error)` returns, when it returns some.
   */
  async poll(load, every = 0, onError = () => null) {
    this.load = load;
    this.onError = onError;
    await this.refresh();
    if (!this.alive) return;
    this.loaded();
    if (every > 0) {
      const again = async () => { await this.refresh(); this.after(every * 1000, again); };
      this.after(every * 1000, again);
    }
  }

  /** Loads and renders once more now (after an action); the latest load wins. */
  async refresh() {
    const seq = (this.seq = (this.seq || 0) + 1);
    let parts;
    try {
      parts = await this.load();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      this.loadWarning = "";
      parts = this.onError(e) || { error: html`<div class="alert alert-error">${e.message}</div>` };
    }
    if (this.alive && seq === this.seq) this.render(parts);
  }

  /**
   * Writes the page's parts: {key: markup, ...} in display order. A part whose markup
   * did not change is left alone, so periodic reloads do not replace buttons or
   * links under the pointer.
   */
  render(parts) {
    if (!this.alive) return;
    const keys = Object.keys(parts).join(" ");
    if (this.layout !== keys) {
      this.content.innerHTML = Object.keys(parts).map((k) => `<div class="part part-${k}"></div>`).join("");
      this.layout = keys;
      this.parts = {};
    }
    for (const [key, markup] of Object.entries(parts)) {
      const text = String(markup ?? "");
      if (this.parts[key] !== text) {
        this.content.querySelector(`.part-${key}`).innerHTML = text;
        this.parts[key] = text;
      }
    }
    this.renderAlerts();
  }

  /** Adds an alert from an action (kept until dismissed or the page is left). */
  notice(kind, text) {
    this.notices = this.notices.filter((n) => n.text !== text);
    this.notices.push({ kind, text });
    this.renderAlerts();
  }

  /** The load warning and the action notices, each text shown once. */
  renderAlerts() {
    const shown = new Set();
    const boxes = [];
    this.notices.forEach((n, i) => {
      shown.add(n.text);
      boxes.push(html`<div class="alert alert-${n.kind}"><button class="close" data-dismiss="${i}" title="dismiss" aria-label="dismiss"></button>${n.text}</div>`);
    });
    if (this.loadWarning && !shown.has(this.loadWarning)) {
      boxes.push(html`<div class="alert alert-warning">${this.loadWarning}</div>`);
    }
    const text = String(html`${boxes}`);
    if (this.alertsText !== text) {
      this.alerts.innerHTML = text;
      this.alertsText = text;
    }
  }

  dismiss(event) {
    const button = event.target.closest("button[data-dismiss]");
    if (!button) return;
    this.notices.splice(Number(button.dataset.dismiss), 1);
    this.renderAlerts();
  }

  /** Calls handler(element, event) for clicks on elements matching `selector`. */
  onClick(selector, handler) {
    this.main.addEventListener("click", (event) => {
      const element = event.target.closest(selector);
      if (element && this.main.contains(element)) handler(element, event);
    });
  }

  /**
   * Runs an admin action: asks `question` (unless it is null), sends the request,
   * then calls done() on success. A warning in the answer is kept and shown until
   * the next action (also on the page done() navigates to); a failure is a red box
   * above the page.
   */
  async action({ question, method, url, body, done, button }) {
    if (question && !(await confirmAction(question))) return;
    this.notices = []; // what earlier actions said no longer applies
    this.renderAlerts();
    if (button) button.disabled = true;
    try {
      const answer = await api(method, url, body);
      if (answer.message) this.notice("warning", answer.message);
      await done(answer);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      this.notice("error", e.message);
    } finally {
      if (button) button.disabled = false;
    }
  }
}

// ---------------------------------------------------------------------------
// The router: the path after the base path names the page.

let pages = {};   // route name → page function, from start()
let current = null;

/** The page name and parameters for a location path. */
function route(pathname) {
  let rest;
  if (pathname.startsWith(base)) rest = pathname.slice(base.length);
  else if (pathname + "/" === base) rest = "";
  else return { name: "missing", params: {} };
  let parts;
  try {
    parts = rest.split("/").filter(Boolean).map(decodeURIComponent);
  } catch (e) {
    return { name: "missing", params: {} };
  }
  const [first, a, b] = parts;
  if (parts.length === 0 || (first === "topics" && parts.length === 1)) return { name: "streams", params: {} };
  if (first === "topics" && parts.length === 2) return { name: "topic", params: { topic: a } };
  if (first === "topics" && parts.length === 3) return { name: "channel", params: { topic: a, channel: b } };
  if (first === "nodes" && parts.length === 1) return { name: "nodes", params: {} };
  if (first === "nodes" && parts.length === 2) return { name: "node", params: { node: a } };
  if (first === "counter" && parts.length === 1) return { name: "counter", params: {} };
  if (first === "lookup" && parts.length === 1) return { name: "lookup", params: {} };
  return { name: "missing", params: {} };
}

/** Which navbar entry a page belongs to. */
const SECTION = { streams: "streams", topic: "streams", channel: "streams", nodes: "nodes", node: "nodes", counter: "counter", lookup: "lookup" };

/** Shows the page of the current location. */
function show() {
  if (current) current.close();
  const { name, params } = route(location.pathname);
  document.querySelectorAll(".navbar a[data-section]").forEach((a) => {
    a.classList.toggle("active", a.dataset.section === SECTION[name]);
  });
  document.body.classList.toggle("dark", name === "counter");
  current = new Page(name);
  pages[name](current, params);
}

/** Goes to `url` without reloading; `notices` are shown on the new page. */
export function navigate(url, notices = []) {
  pendingNotices = notices;
  history.pushState(null, "", url);
  show();
  window.scrollTo(0, 0);
}

/** Internal links navigate in place; modified clicks (new tab) are left to the browser. */
function onLinkClick(event) {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const a = event.target.closest("a[href]");
  if (!a || a.target || a.origin !== location.origin) return;
  if (!(a.pathname.startsWith(base) || a.pathname + "/" === base)) return;
  if (a.pathname.startsWith(base + "api/") || a.pathname.startsWith(base + "static/")) return;
  event.preventDefault();
  const path = a.pathname === base ? home : a.pathname;
  if (path !== location.pathname) navigate(path);
}

/** Starts the UI with `pageFunctions` (route name → function(page, params)). */
export function start(pageFunctions) {
  pages = pageFunctions;
  document.addEventListener("click", onLinkClick);
  window.addEventListener("popstate", show);
  show();
}

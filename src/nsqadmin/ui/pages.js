// The pages of nsqadmin, one function each, called by the router in app.js with a
// fresh Page and the route's parameters. A page registers its click handlers, then
// has page.poll() load its data and return its parts (markup by name); app.js writes
// the parts that changed. Texts and columns follow Go's nsqadmin.

import { config, pageUrl, apiUrl, html, raw, num, duration, seconds, api, ApiError, navigate } from "./app.js";
import { sparkline, digitTiles, animate } from "./charts.js";

/** nsqadmin knows nsqlookupd hosts (else it reads the nsqd given by --nsqd-http-address). */
const lookupdMode = config.nsqlookupd.length > 0;

// ---------------------------------------------------------------------------
// Pieces shared by several pages.

function breadcrumb(...links) {
  const last = links.pop();
  return html`<ol class="breadcrumb">${links.map(([text, url]) => html`<li><a href="${url}">${text}</a></li>`)}<li class="active">${last}</li></ol>`;
}

/** 1 → "1 channel", 3 → "3 channels". */
function plural(n, noun) {
  return `${num(n)} ${noun}${n === 1 ? "" : "s"}`;
}

function infoBox(title, body) {
  return html`<div class="alert alert-info"><h4>${title}</h4>${body}</div>`;
}

function pausedLabel(paused) {
  return paused ? html` <span class="label label-primary paused">paused</span>` : "";
}

/** "host:port" → [host, port]; IPv6 hosts keep their brackets. */
function splitAddress(address) {
  const i = String(address).lastIndexOf(":");
  return i < 0 ? [address, ""] : [address.slice(0, i), address.slice(i + 1)];
}

function nodeLink(node) {
  return html`<a href="${pageUrl("nodes", node)}">${node}</a>`;
}

/** "vm:4151 (127.0.0.1:4151)", or just the link when the hostname is the address. */
function hostCell(row) {
  const [host, port] = splitAddress(row.node);
  if (!row.hostname || row.hostname === host) return nodeLink(row.node);
  return html`${row.hostname}:${port} <span class="muted">(${nodeLink(row.node)})</span>`;
}

function tombstoneButton(node, topic) {
  if (!lookupdMode) return "";
  return html`<button class="btn-link tombstone" data-action="tombstone" data-node="${node}" data-topic="${topic}" title="tombstone ${topic} on this node">&#10008;</button> `;
}

function memoryAndDisk(row) {
  return `${num(row.memory_depth)} + ${num(row.backend_depth)}`;
}

/** The E2E latency quantiles a total reports (e.g. [0.99, 0.5]), highest first. */
function quantiles(total) {
  const list = total?.e2e_processing_latency?.percentiles || [];
  return list.map((p) => p.quantile).sort((a, b) => b - a);
}

function e2eHeaders(qs) {
  return qs.map((q) => html`<th>${Math.round(q * 1000) / 10}th</th>`);
}

function e2eCells(row, qs) {
  const list = row?.e2e_processing_latency?.percentiles || [];
  return qs.map((q) => {
    const p = list.find((x) => x.quantile === q);
    if (!p) return html`<td></td>`;
    const title = p.min !== undefined ? `min: ${duration(p.min)}, max: ${duration(p.max)}` : "";
    return html`<td title="${title}">${duration(p.average ?? p.value)}</td>`;
  });
}

/** An "Are you sure you want to <action> <name>?" question for the dialog. */
function ask(action, name, where) {
  return html`Are you sure you want to <strong>${action}</strong> <em>${name}</em>${where ? html` on <em>${where}</em>` : ""}?`;
}

/** The admin buttons of a topic or channel page ("Topic" or "Channel"). */
function adminButtons(kind, paused) {
  if (!config.isAdmin) return "";
  const pause = paused
    ? html`<button class="btn btn-success" data-action="unpause">UnPause ${kind}</button>`
    : html`<button class="btn btn-primary" data-action="pause">Pause ${kind}</button>`;
  return html`<div class="actions">
    <button class="btn btn-warning" data-action="empty">Empty ${kind === "Topic" ? "Queue" : kind}</button>
    <button class="btn btn-danger" data-action="delete">Delete ${kind}</button>
    ${pause}</div>`;
}

/**
 * Handles the buttons of a topic or channel page: pause, unpause, empty (POST),
 * delete (DELETE, then `gone`), tombstone a node's producer (DELETE api/nodes/:n).
 */
function handleActions(page, name, url, gone) {
  page.onClick("button[data-action]", (button) => {
    const { action, node, topic } = button.dataset;
    if (action === "tombstone") {
      page.action({
        question: ask("tombstone", topic, node), method: "DELETE", url: apiUrl("nodes", node),
        body: { topic }, button, done: () => page.refresh(),
      });
    } else if (action === "delete") {
      page.action({
        question: ask("delete", name), method: "DELETE", url, button,
        done: () => navigate(gone, page.notices),
      });
    } else {
      page.action({
        question: ask(action, name), method: "POST", url, body: { action }, button,
        done: () => page.refresh(),
      });
    }
  });
}

/** For a topic or channel nobody produces: a notice instead of the raw error. */
function noProducers(what, header) {
  return (error) => {
    if (!/TOPIC_NOT_FOUND|any nsqd: *$/.test(error.message)) return null;
    return {
      header,
      notice: infoBox("Notice", html`No producers exist for this ${what}.
        See <a href="${pageUrl("lookup")}">Lookup</a> for more information.
        <div class="detail">${error.message}</div>`),
    };
  };
}

// ---------------------------------------------------------------------------
// Rates: nsqadmin samples every topic and channel every SAMPLE_INTERVAL seconds and
// keeps a window of samples (GET api/rates/topics/:t[/:c]).

async function rateSamples(...parts) {
  try {
    return await api("GET", apiUrl("rates", ...parts));
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    return { samples: [], error: e.message };
  }
}

const SERIES = {
  rate: { label: "messages/s", field: "rate", hook: "rate-now" },
  depth: { label: "depth", field: "depth", hook: "depth-now" },
  in_flight: { label: "in flight", field: "in_flight_count", hook: "in-flight-now" },
};

/** Sparklines of `names` (keys of SERIES), each with its latest value. */
function ratesPanel(rates, names) {
  const samples = rates.samples || [];
  const metrics = names.map((name) => {
    const { label, field, hook } = SERIES[name];
    const points = samples.map((s) => ({ t: s.timestamp, v: s[field] }));
    const latest = points.filter((p) => p.v !== null && p.v !== undefined).pop();
    const value = latest ? latest.v : null;
    return html`<div class="metric">
      <div class="metric-label">${label}</div>
      ${raw(sparkline(name, points, label))}
      <span class="metric-value ${hook}" data-value="${value ?? ""}">${value === null ? "–" : num(value)}</span>
    </div>`;
  });
  let note;
  if (rates.error) note = `rates unavailable: ${rates.error}`;
  else if (samples.length < 2) note = "collecting samples…";
  else note = `last ${seconds(samples[samples.length - 1].timestamp - samples[0].timestamp)}, one sample every ${seconds(rates.interval)}`;
  return html`<div class="rates">${metrics}<div class="rates-note">${note}</div></div>`;
}

// ---------------------------------------------------------------------------
// Streams: every topic.

async function streamsPage(page) {
  page.title("Streams");
  page.poll(async () => {
    const { topics } = await page.get(apiUrl("topics"));
    if (!topics || topics.length === 0) {
      return { list: html`<h2>Topics</h2>${infoBox("Notice", "No Topics Found")}` };
    }
    const rows = topics.map((t) => html`<tr><td><a class="topic-link" href="${pageUrl("topics", t)}">${t}</a></td></tr>`);
    return { list: html`<h2>Topics</h2><table class="table table-half"><tbody>${rows}</tbody></table>` };
  });
}

// ---------------------------------------------------------------------------
// Topic: per-node queues, the total, channels, rates.

async function topicPage(page, { topic }) {
  page.title(topic);
  const header = breadcrumb(["Streams", pageUrl()], topic);
  handleActions(page, topic, apiUrl("topics", topic), pageUrl());
  page.poll(async () => {
    const [t, rates] = await Promise.all([page.get(apiUrl("topics", topic)), rateSamples("topics", topic)]);
    const qs = quantiles(t);
    return {
      header: html`${header}<blockquote>Topic: <strong>${topic}</strong>${pausedLabel(t.paused)}</blockquote>${adminButtons("Topic", t.paused)}`,
      rates: ratesPanel(rates, ["rate", "depth"]),
      nodes: topicNodes(topic, t, qs),
      channels: topicChannels(topic, t, qs),
    };
  }, config.sampleInterval, noProducers("topic", header));
}

function topicNodes(topic, t, qs) {
  if (!t.nodes || t.nodes.length === 0) {
    return infoBox("Notice", html`No producers exist for this topic. See <a href="${pageUrl("lookup")}">Lookup</a> for more information.`);
  }
  const head = qs.length ? html`<tr><th colspan="5"></th><th colspan="${qs.length}">E2E Processing Latency</th></tr>` : "";
  const rows = t.nodes.map((n) => html`<tr>
    <td>${tombstoneButton(n.node, topic)}${hostCell(n)}${pausedLabel(n.paused)}</td>
    <td>${num(n.depth)}</td><td>${memoryAndDisk(n)}</td><td>${num(n.message_count)}</td>
    <td>${num((n.channels || []).length)}</td>${e2eCells(n, qs)}</tr>`);
  return html`<h4>Topic Message Queue</h4><div class="table-wrap"><table class="table">
    <thead>${head}<tr><th>NSQd Host</th><th>Depth</th><th>Memory + Disk</th><th>Messages</th><th>Channels</th>${e2eHeaders(qs)}</tr></thead>
    <tbody>${rows}<tr class="total"><td>Total:</td><td>${num(t.depth)}</td><td>${memoryAndDisk(t)}</td>
    <td>${num(t.message_count)}</td><td>${num((t.channels || []).length)}</td>${e2eCells(t, qs)}</tr></tbody></table></div>`;
}

function topicChannels(topic, t, qs) {
  if (!t.channels || t.channels.length === 0) {
    return infoBox("Notice", "No channels exist for this topic. Messages will queue at the topic until a channel is created.");
  }
  const head = qs.length ? html`<tr><th colspan="9"></th><th colspan="${qs.length}">E2E Processing Latency</th></tr>` : "";
  const rows = t.channels.map((c) => html`<tr>
    <td><a href="${pageUrl("topics", topic, c.channel_name)}">${c.channel_name}</a>${pausedLabel(c.paused)}</td>
    <td>${num(c.depth)}</td><td>${memoryAndDisk(c)}</td><td>${num(c.in_flight_count)}</td>
    <td>${num(c.deferred_count)}</td><td>${num(c.requeue_count)}</td><td>${num(c.timeout_count)}</td>
    <td>${num(c.message_count)}</td><td>${num(c.client_count)}</td>${e2eCells(c, qs)}</tr>`);
  return html`<h4>Channel Message Queues</h4><div class="table-wrap"><table class="table">
    <thead>${head}<tr><th>Channel</th><th>Depth</th><th>Memory + Disk</th><th>In-Flight</th><th>Deferred</th>
    <th>Requeued</th><th>Timed Out</th><th>Messages</th><th>Connections</th>${e2eHeaders(qs)}</tr></thead>
    <tbody>${rows}</tbody></table></div>`;
}

// ---------------------------------------------------------------------------
// Channel: per-node queues, the total, connected clients, rates.

async function channelPage(page, { topic, channel }) {
  page.title(`${topic}/${channel}`);
  const header = breadcrumb(["Streams", pageUrl()], [topic, pageUrl("topics", topic)], channel);
  handleActions(page, `${topic}/${channel}`, apiUrl("topics", topic, channel), pageUrl("topics", topic));
  page.poll(async () => {
    const [c, rates] = await Promise.all([
      page.get(apiUrl("topics", topic, channel)), rateSamples("topics", topic, channel),
    ]);
    const top = html`${header}<blockquote>Topic: <strong>${topic}</strong><br>Channel: <strong>${channel}</strong>${pausedLabel(c.paused)}</blockquote>`;
    if (!c.nodes || c.nodes.length === 0) {
      return { header: top, notice: infoBox("Notice", "No producers exist for this topic/channel.") };
    }
    const qs = quantiles(c);
    return {
      header: html`${top}${adminButtons("Channel", c.paused)}`,
      rates: ratesPanel(rates, ["rate", "depth", "in_flight"]),
      nodes: channelNodes(c, qs),
      clients: channelClients(c),
    };
  }, config.sampleInterval, noProducers("topic/channel", header));
}

function channelRow(row, qs) {
  return html`<td>${num(row.depth)}</td><td>${memoryAndDisk(row)}</td><td>${num(row.in_flight_count)}</td>
    <td>${num(row.deferred_count)}</td><td>${num(row.requeue_count)}</td><td>${num(row.timeout_count)}</td>
    <td>${num(row.message_count)}</td><td>${num(row.client_count)}</td>${e2eCells(row, qs)}`;
}

function channelNodes(c, qs) {
  const rows = c.nodes.map((n) => html`<tr><td>${hostCell(n)}${pausedLabel(n.paused)}</td>${channelRow(n, qs)}</tr>`);
  return html`<h4>Channel</h4><div class="table-wrap"><table class="table">
    <thead><tr><th></th><th colspan="4" class="group">Message Queues</th><th colspan="4" class="group">Statistics</th>
    ${qs.length ? html`<th colspan="${qs.length}" class="group">E2E Processing Latency</th>` : ""}</tr>
    <tr><th>NSQd Host</th><th>Depth</th><th>Memory + Disk</th><th>In-Flight</th><th>Deferred</th><th>Requeued</th>
    <th>Timed Out</th><th>Messages</th><th>Connections</th>${e2eHeaders(qs)}</tr></thead>
    <tbody>${rows}<tr class="total"><td>Total:</td>${channelRow(c, qs)}</tr></tbody></table></div>`;
}

/** The client connection columns; the node page leaves out NSQd Host. */
function clientHeaders(withNode) {
  return html`<tr><th>Client Host</th><th>Client ID</th><th>User-Agent</th><th>Version</th><th>Attributes</th>
    ${withNode ? html`<th>NSQd Host</th>` : ""}<th title="Ready Count">RDY</th><th>In-Flight</th><th>Finished</th>
    <th>Requeued</th><th>Messages</th><th>Connected</th></tr>`;
}

function clientAttributes(c) {
  const labels = [];
  if (c.sample_rate > 0) labels.push(html`<span class="label label-info">Sampled ${c.sample_rate}%</span>`);
  if (c.tls) {
    const tip = [c.tls_version, c.tls_cipher_suite, c.tls_negotiated_protocol].filter(Boolean).join(" ");
    labels.push(html`<span class="label label-warning" title="${tip}">TLS</span>`);
  }
  if (c.deflate) labels.push(html`<span class="label label-default">Deflate</span>`);
  if (c.snappy) labels.push(html`<span class="label label-default">Snappy</span>`);
  if (c.authed) {
    const who = c.auth_identity ? `authed as ${c.auth_identity}` : "authed";
    labels.push(html`<span class="label label-success" title="${who}"><svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><circle cx="8" cy="5" r="3"/><path d="M2 15c0-3.3 2.7-6 6-6s6 2.7 6 6z"/></svg> authed</span>`);
  }
  return labels.length ? html`${labels.map((l) => html`${l} `)}` : "";
}

function clientRow(c, withNode) {
  const [, port] = splitAddress(c.remote_address || "");
  const since = c.connect_ts ? new Date(c.connect_ts * 1000).toLocaleString() : "";
  return html`<tr class="client">
    <td title="${c.remote_address}">${c.hostname}:${port}</td><td>${c.client_id}</td>
    <td class="user-agent"><small>${c.user_agent}</small></td><td>${c.version}</td><td class="wrap">${clientAttributes(c)}</td>
    ${withNode ? html`<td>${nodeLink(c.node)}</td>` : ""}
    <td>${num(c.ready_count)}</td><td>${num(c.in_flight_count)}</td><td>${num(c.finish_count)}</td>
    <td>${num(c.requeue_count)}</td><td>${num(c.message_count)}</td>
    <td title="connected since ${since}">${duration(c.connected)}</td></tr>`;
}

function channelClients(c) {
  if (!c.clients || c.clients.length === 0) return infoBox("Notice", "No clients connected to this channel");
  return html`<h4>Client Connections</h4><div class="table-wrap"><table class="table">
    <thead>${clientHeaders(true)}</thead><tbody>${c.clients.map((cl) => clientRow(cl, true))}</tbody></table></div>`;
}

// ---------------------------------------------------------------------------
// Nodes: every nsqd producer.

async function nodesPage(page) {
  page.title("Nodes");
  page.poll(async () => {
    const { nodes = [] } = await page.get(apiUrl("nodes"));
    const list = nodes || [];
    const rows = list.map((n) => {
      const host = n.broadcast_address.includes(":") ? `[${n.broadcast_address}]` : n.broadcast_address;
      const topics = (n.topics || []).map((t) => t.tombstoned
        ? html`<a class="label label-warning" href="${pageUrl("topics", t.topic)}" title="this topic is currently tombstoned on this node">${t.topic}</a> `
        : html`<a class="label label-primary" href="${pageUrl("topics", t.topic)}">${t.topic}</a> `);
      const conns = n.remote_addresses || [];
      return html`<tr class="${n.out_of_date ? "warning" : ""}">
        <td>${n.hostname}</td><td><a href="${pageUrl("nodes", `${host}:${n.http_port}`)}">${n.broadcast_address}</a></td>
        <td>${n.tcp_port}</td><td>${n.http_port}</td><td>${n.version}</td>
        ${lookupdMode ? html`<td><details><summary class="label label-warning">${conns.length}</summary>
          <ul class="plain">${conns.map((a) => html`<li>${a}</li>`)}</ul></details></td>` : ""}
        <td><span class="muted">(${(n.topics || []).length})</span> ${topics}</td></tr>`;
    });
    return {
      list: html`<h2>NSQd Nodes (${list.length})</h2><div class="table-wrap"><table class="table">
        <thead><tr><th>Hostname</th><th>Broadcast Address</th><th>TCP Port</th><th>HTTP Port</th><th>Version</th>
        ${lookupdMode ? html`<th>Lookupd Conns.</th>` : ""}<th>Topics</th></tr></thead>
        <tbody>${rows}</tbody></table></div>`,
    };
  });
}

// ---------------------------------------------------------------------------
// Node: one nsqd's topics, their channels and clients.

async function nodePage(page, { node }) {
  page.title(node);
  page.onClick("button[data-action=tombstone]", (button) => {
    const { topic } = button.dataset;
    page.action({
      question: ask("tombstone", topic, node), method: "DELETE", url: apiUrl("nodes", node),
      body: { topic }, button, done: () => page.refresh(),
    });
  });
  page.poll(async () => {
    const n = await page.get(apiUrl("nodes", node));
    const topics = n.topics || [];
    const rows = topics.map((t) => {
      const channels = (t.channels || []).map((c) => html`<tr class="channel-row">
        <td class="indent"><a href="${pageUrl("topics", t.topic_name, c.channel_name)}">${c.channel_name}</a>${pausedLabel(c.paused)}</td>
        <td>${num(c.depth)}</td><td>${memoryAndDisk(c)}</td><td>${num(c.in_flight_count)}</td><td>${num(c.deferred_count)}</td>
        <td>${num(c.requeue_count)}</td><td>${num(c.timeout_count)}</td><td>${num(c.message_count)}</td><td>${num(c.client_count ?? (c.clients || []).length)}</td></tr>
        <tr><td colspan="9" class="clients-cell">${(c.clients || []).length
          ? html`<table class="table table-inner"><thead>${clientHeaders(false)}</thead><tbody>${c.clients.map((cl) => clientRow(cl, false))}</tbody></table>`
          : html`<span class="muted">No clients connected to this channel.</span>`}</td></tr>`);
      return html`<tr class="topic-row">
        <td>${tombstoneButton(node, t.topic_name)}<a href="${pageUrl("topics", t.topic_name)}">${t.topic_name}</a>${pausedLabel(t.paused)}</td>
        <td>${num(t.depth)}</td><td>${memoryAndDisk(t)}</td><td colspan="4"></td><td>${num(t.message_count)}</td>
        <td>${plural((t.channels || []).length, "channel")}</td></tr>
        ${channels.length ? channels : html`<tr><td colspan="9" class="clients-cell muted">No channels exist for this topic.</td></tr>`}`;
    });
    return {
      header: html`${breadcrumb(["Nodes", pageUrl("nodes")], node)}
        <p class="summary"><strong>${num(topics.length)}</strong> Topics &middot;
        <strong>${num(n.total_messages)}</strong> Messages &middot; <strong>${num(n.total_clients)}</strong> Clients</p>`,
      topics: topics.length === 0 ? infoBox("Notice", "No topics exist on this node.") : html`<div class="table-wrap"><table class="table">
        <thead><tr><th>Topic / Channel</th><th>Depth</th><th>Memory + Disk</th><th>In-Flight</th><th>Deferred</th>
        <th>Requeued</th><th>Timed Out</th><th>Messages</th><th>Channels / Connections</th></tr></thead>
        <tbody>${rows}</tbody></table></div>`,
    };
  });
}

// ---------------------------------------------------------------------------
// Counter: the total of messages processed by every channel, live. Polls the way
// Go's does: after 1.1 s, then one second later each time up to 10 s (10 s after an
// error), counting up smoothly to each new total.

async function counterPage(page) {
  page.title("Counter");
  let shown = null;
  let delay = 1100;
  let stop = () => {};
  const paint = (value) => {
    const el = document.getElementById("counter-total");
    if (!el || !page.alive) return;
    el.innerHTML = digitTiles(value);
    el.dataset.value = String(Math.floor(value));
  };
  const tick = async () => {
    let next = delay;
    try {
      const { stats } = await page.get(apiUrl("counter"));
      const total = Object.values(stats || {}).reduce((sum, s) => sum + (s.message_count || 0), 0);
      page.render({ counter: html`<div class="counter"><div id="counter-total" class="counter-digits"></div>
        <div class="counter-caption">Messages Processed</div></div>` });
      stop();
      if (shown === null || total < shown) paint(total);
      else stop = animate(shown, total, Math.min(delay, 2000), paint);
      shown = total;
      delay = Math.min(delay + 1000, 10000);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      page.render({ error: html`<div class="alert alert-error">${e.message}</div>` });
      shown = null;
      next = 10000;
    }
    page.loaded();
    page.after(next, tick);
  };
  tick();
}

// ---------------------------------------------------------------------------
// Lookup: topics and channels nsqlookupd knows that no nsqd produces, and the
// create form.

async function lookupPage(page) {
  page.title("Lookup");
  if (!lookupdMode) {
    page.render({ list: html`<h2>Lookup</h2>${infoBox("Notice", "nsqadmin is not configured with nsqlookupd hosts")}` });
    page.loaded();
    return;
  }
  page.onClick("button[data-action=delete]", (button) => {
    const { topic, channel } = button.dataset;
    const url = channel ? apiUrl("topics", topic, channel) : apiUrl("topics", topic);
    page.action({
      question: ask("delete", channel ? `${topic}/${channel}` : topic), method: "DELETE", url, button,
      done: () => page.refresh(),
    });
  });
  page.main.addEventListener("submit", (event) => {
    const form = event.target.closest("form#create");
    if (!form) return;
    event.preventDefault();
    const topic = form.elements.topic.value.trim();
    const channel = form.elements.channel.value.trim();
    if (!topic && !channel) return;
    page.action({
      method: "POST", url: apiUrl("topics"), body: { topic, channel },
      button: form.querySelector("button"),
      done: async () => {
        form.reset();
        page.notice("success", channel ? `Created ${topic}/${channel}` : `Created ${topic}`);
        await page.refresh();
      },
    });
  });
  const hosts = html`<h2>Lookup</h2><table class="table table-half"><thead><tr><th>nsqlookupd Host</th></tr></thead>
    <tbody>${config.nsqlookupd.map((h) => html`<tr><td>${h}</td></tr>`)}</tbody></table>`;
  const form = config.isAdmin ? html`<form id="create" class="panel">
    <h4>Create Topic/Channel</h4>
    <label>Topic Name <input name="topic" placeholder="topic" autocomplete="off"></label>
    <label>Channel Name <input name="channel" placeholder="channel (optional)" autocomplete="off"></label>
    <button class="btn btn-primary" type="submit">Create</button></form>` : "";
  page.poll(async () => {
    const { topics } = await page.get(`${apiUrl("topics")}?inactive=true`);
    const names = Object.keys(topics || {}).sort();
    const tree = names.map((t) => html`<li>
      <button class="btn-link tombstone" data-action="delete" data-topic="${t}" title="delete topic ${t}">&#10008;</button>
      <a href="${pageUrl("topics", t)}">${t}</a>
      ${(topics[t] || []).length ? html`<ul>${topics[t].map((c) => html`<li>
        <button class="btn-link tombstone" data-action="delete" data-topic="${t}" data-channel="${c}" title="delete channel ${c}">&#10008;</button>
        ${c}</li>`)}</ul>` : ""}</li>`);
    return {
      hosts,
      tree: html`<div class="alert alert-info">Below is a tree of Topics/Channels that are currently inactive
        (i.e. not produced on any nsqd in the cluster but are present in the lookup data)</div>
        ${names.length ? html`<ul class="tree">${tree}</ul>` : html`<p class="muted">No inactive Topics</p>`}`,
      form,
    };
  });
}

// ---------------------------------------------------------------------------
// An unknown path under the base path.

async function missingPage(page) {
  page.title("Not Found");
  page.render({ error: html`<div class="alert alert-error">NOT_FOUND: there is no page at ${location.pathname}</div>` });
  page.loaded();
}

/** Page functions by route name (see route() in app.js); index.html passes them to start(). */
export const PAGES = {
  streams: streamsPage,
  topic: topicPage,
  channel: channelPage,
  nodes: nodesPage,
  node: nodePage,
  counter: counterPage,
  lookup: lookupPage,
  missing: missingPage,
};

// The trace page: the list of recent traces and one trace's spans as a waterfall. Everything shown is
// set as text, never as markup, so no span name or attribute can inject anything into the page.
'use strict';

const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = String(text);
  return node;
};

const ms = (value) => `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;

async function getJson(path) {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  const body = await response.json();
  if (!response.ok) throw new Error(body.message || `HTTP ${response.status}`);
  return body;
}

/** Parents before children, siblings by start time; a span whose parent is not here counts as a root. */
function ordered(spans) {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map();
  for (const span of spans) {
    const parent = span.parentSpanId && ids.has(span.parentSpanId) ? span.parentSpanId : '';
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(span);
  }
  const out = [];
  const walk = (parent, depth) => {
    for (const span of (children.get(parent) || []).sort((a, b) => a.startMs - b.startMs)) {
      out.push({ span, depth });
      walk(span.spanId, depth + 1);
    }
  };
  walk('', 0);
  return out;
}

function showTrace(trace) {
  const title = document.getElementById('trace-title');
  const waterfall = document.getElementById('waterfall');
  waterfall.replaceChildren();
  const start = Math.min(...trace.spans.map((s) => s.startMs));
  const end = Math.max(...trace.spans.map((s) => s.startMs + s.durationMs));
  const total = Math.max(end - start, 0.001);
  title.textContent = `Trace ${trace.traceId} — ${trace.spans.length} spans, ${ms(end - start)}`;
  const head = el('div', 'row head');
  head.setAttribute('role', 'row');
  for (const label of ['Service', 'Span', 'Timeline', 'Duration']) head.append(el('div', '', label));
  waterfall.append(head);
  for (const { span, depth } of ordered(trace.spans)) {
    const row = el('div', 'row span');
    row.setAttribute('role', 'row');
    row.title = Object.entries(span.attributes).map(([key, value]) => `${key}: ${value}`).join('\n');
    const name = el('div', 'name', `${span.kind.toLowerCase()} · ${span.name}`);
    name.style.paddingLeft = `${depth * 0.9}rem`;
    const track = el('div', 'track');
    const bar = el('div', `bar ${span.kind} ${span.status}`);
    bar.style.left = `${((span.startMs - start) / total) * 100}%`;
    bar.style.width = `${(span.durationMs / total) * 100}%`;
    track.append(bar);
    row.append(el('div', 'service', span.service), name, track, el('div', 'duration', ms(span.durationMs)));
    waterfall.append(row);
  }
}

function showList(traces, selected) {
  const body = document.querySelector('#traces tbody');
  body.replaceChildren();
  if (traces.length === 0) {
    const row = el('tr');
    const cell = el('td', 'empty', 'No traces yet: send a request through the edge.');
    cell.colSpan = 5;
    row.append(cell);
    body.append(row);
    return;
  }
  for (const trace of traces) {
    const row = el('tr', trace.traceId === selected ? 'selected' : '');
    const link = el('a', '', `${trace.service} ${trace.name}`);
    link.href = `?trace=${encodeURIComponent(trace.traceId)}`;
    const root = el('td');
    root.append(link);
    row.append(el('td', '', new Date(trace.startMs).toLocaleTimeString()), root, el('td', '', trace.services.join(', ')),
      el('td', '', trace.spanCount), el('td', '', ms(trace.durationMs)));
    body.append(row);
  }
}

async function main() {
  const asked = new URLSearchParams(location.search).get('trace');
  const { traces } = await getJson('/traces');
  const selected = asked || (traces[0] && traces[0].traceId);
  showList(traces, selected);
  if (selected) {
    try {
      showTrace(await getJson(`/traces/${encodeURIComponent(selected)}`));
    } catch (error) {
      document.getElementById('trace-title').textContent = `Trace ${selected}: ${error.message}`;
    }
  }
  document.body.dataset.ready = 'true';
}

main().catch((error) => {
  document.getElementById('trace-title').textContent = `Could not load the traces: ${error.message}`;
  document.body.dataset.ready = 'true';
});

// Hexfleet dispatcher console: plain browser APIs, no external tiles or libraries.
// Web Mercator on a canvas; roads from /v1/map/roads, drivers over /v1/ws/track (viewport bbox subscription),
// surge zones above 1× from /v1/surge. With a dispatcher or admin token (from /#token=…, ?token=… or the token
// field, kept in sessionStorage): the live orders from /v1/orders, an order's details and timeline
// (/v1/orders/{id}, /v1/orders/{id}/events) and its courier's route (/v1/drivers/{id}/route when the engine has
// planned routes, else /v1/route legs), a driver's state (/v1/drivers/{id}) and current orders. A missing
// endpoint (404) hides its section.
(function () {
  'use strict';

  const STATUS_COLORS = {
    available: '#2e9d57', to_pickup: '#e0a100', on_trip: '#2f6fd6', break: '#9b59b6', offline: '#8a8a8a',
  };
  const LIVE_STATUSES = 'created,quoted,dispatched,accepted,picked_up';
  const TOKEN_KEY = 'hexfleet.token';
  const ORDERS_POLL_MS = 3000;
  const $ = (id) => document.getElementById(id);
  const canvas = $('map');
  const ctx = canvas.getContext('2d');
  const statusEl = $('status');
  const countEl = $('count');

  // Exposed for tests and debugging (plain data; the functions below are helpers for tests).
  const state = window.hexfleet = {
    driversDrawn: 0, driversKnown: 0, lastUpdate: 0, positionsReceived: 0, messages: 0,
    roadsDrawn: 0, surgeZones: 0, surgeLabels: [], orders: 0, ordersListed: 0, connected: false, errors: [],
    view: null, auth: 'none', listCursor: null, panel: null,
  };

  // Token: the URL fragment (#token=…, removed from the address bar at once), ?token=…, or this tab's storage.
  function storedToken() { try { return sessionStorage.getItem(TOKEN_KEY); } catch (e) { return null; } }
  function storeToken(t) {
    try { if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* private mode */ }
  }
  let viewHash = null;
  let token = (function () {
    let found = null;
    const keep = [];
    for (const part of location.hash.replace(/^#/, '').split('&')) {
      if (part.startsWith('token=')) found = decodeURIComponent(part.slice(6));
      else if (part) keep.push(part);
    }
    if (found !== null) {
      history.replaceState(null, '', location.pathname + location.search + (keep.length ? '#' + keep.join('&') : ''));
      storeToken(found || null);
    }
    viewHash = keep.join('&');
    return found || new URLSearchParams(location.search).get('token') || storedToken() || null;
  })();

  // View: center in world units (0…1 Mercator), zoom as a power of two of 256-pixel tiles.
  const view = { x: 0.5, y: 0.5, zoom: 2 };
  let userMoved = false;
  let fitted = false;

  function project(lat, lng) {
    const s = Math.sin(Math.max(-85.05, Math.min(85.05, lat)) * Math.PI / 180);
    return [(lng + 180) / 360, 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)];
  }
  function unproject(x, y) {
    const lng = x * 360 - 180;
    const lat = Math.atan(Math.sinh(Math.PI * (1 - 2 * y))) * 180 / Math.PI;
    return [lat, lng];
  }
  function scale() { return 256 * Math.pow(2, view.zoom); }
  function toScreen(wx, wy) {
    const s = scale();
    return [(wx - view.x) * s + canvas.width / 2, (wy - view.y) * s + canvas.height / 2];
  }
  function toWorld(px, py) {
    const s = scale();
    return [view.x + (px - canvas.width / 2) / s, view.y + (py - canvas.height / 2) / s];
  }
  function viewportBBox() {
    const [x0, y0] = toWorld(-canvas.width * 0.1, canvas.height * 1.1);
    const [x1, y1] = toWorld(canvas.width * 1.1, -canvas.height * 0.1);
    const [minLat, minLng] = unproject(Math.max(0, x0), Math.min(1, y0));
    const [maxLat, maxLng] = unproject(Math.min(1, x1), Math.max(0, y1));
    const r = (v) => Math.round(v * 1e5) / 1e5;
    return [r(Math.max(-90, minLat)), r(Math.max(-180, minLng)), r(Math.min(90, maxLat)), r(Math.min(180, maxLng))];
  }
  function fitTo(points) {
    if (points.length === 0) return;
    let minX = 1, minY = 1, maxX = 0, maxY = 0;
    for (const [x, y] of points) {
      minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y);
    }
    view.x = (minX + maxX) / 2; view.y = (minY + maxY) / 2;
    const span = Math.max(maxX - minX, maxY - minY, 1e-6);
    view.zoom = Math.max(1, Math.min(18, Math.log2(Math.min(canvas.width, canvas.height) * 0.9 / (256 * span))));
    fitted = true;
    viewChanged();
  }
  function centerOn(x, y) {
    const [px, py] = toScreen(x, y);
    if (px > 0 && py > 0 && px < canvas.width && py < canvas.height) return;
    view.x = x; view.y = y;
    if (view.zoom < 14) view.zoom = 15;
    userMoved = true;
    viewChanged();
  }

  // Data.
  let roads = new Float64Array(0);        // x1,y1,x2,y2 in world units, per segment
  const drivers = new Map();              // id → {x, y, fromX, fromY, t0, status, ts, lat, lng}
  let surge = [];                         // [{cell, multiplier, label, ring: [[x,y],…], center: [x,y]}], multiplier > 1
  let orders = [];                        // the live orders as the API answers them, newest first
  let orderMarks = [];                    // [{id, pickup:[x,y], dropoff:[x,y]|null, courier}]
  // What the open panel draws: the selected driver or order, and route polylines in world units.
  const highlight = { driver: null, order: null, paths: [], stops: [] };

  function authHeaders() { return token ? { Authorization: 'Bearer ' + token } : {}; }
  /** {status, ok, body} of a GET; status 0 when the request failed. */
  async function api(path) {
    try {
      const r = await fetch(path, { headers: authHeaders() });
      let body = null;
      try { body = await r.json(); } catch (e) { body = null; }
      return { status: r.status, ok: r.ok, body };
    } catch (e) { return { status: 0, ok: false, body: null }; }
  }
  async function getJSON(path) {
    const r = await api(path);
    return r.ok ? r.body : null;
  }

  async function loadRoads() {
    const body = await getJSON('/v1/map/roads');
    const segs = body && Array.isArray(body.segments) ? body.segments : [];
    const out = new Float64Array(segs.length * 4);
    let n = 0;
    for (const s of segs) {
      if (!Array.isArray(s) || s.length < 4) continue;
      const a = project(s[0], s[1]), b = project(s[2], s[3]);
      out[n++] = a[0]; out[n++] = a[1]; out[n++] = b[0]; out[n++] = b[1];
    }
    roads = out.subarray(0, n);
    if (roads.length > 0 && !userMoved && !initialHash) {
      const pts = [];
      for (let i = 0; i < roads.length; i += 4) pts.push([roads[i], roads[i + 1]]);
      fitTo(pts);
    }
    dirty = true;
  }

  function latLngOf(v) {
    if (!v) return null;
    if (Array.isArray(v) && v.length >= 2) return [v[0], v[1]];
    if (typeof v.lat === 'number' && typeof v.lng === 'number') return [v.lat, v.lng];
    return null;
  }
  function courierOf(o) { return o.courier_id ?? o.courier ?? o.driver_id ?? null; }

  async function loadOrders() {
    if (!token) { setAuth('none'); return; }
    const r = await api('/v1/orders?status=' + LIVE_STATUSES + '&limit=200');
    if (r.status === 401 || r.status === 403) { setAuth('refused', r.body); return; }
    if (!r.ok || !r.body || !Array.isArray(r.body.orders)) return;
    setAuth('ok');
    orders = r.body.orders;
    orderMarks = [];
    for (const o of orders) {
      const p = latLngOf(o.pickup);
      if (!p) continue;
      const d = latLngOf(o.dropoff);
      orderMarks.push({ id: o.id, pickup: project(p[0], p[1]), dropoff: d ? project(d[0], d[1]) : null, courier: courierOf(o) });
    }
    state.orders = orderMarks.length;
    renderOrderList();
    if (highlight.order != null) refreshOrderPanel(false);
    else if (highlight.driver != null) refreshDriverPanel();
    dirty = true;
  }
  async function loadSurge() {
    const body = await getJSON('/v1/surge');
    const zones = body && Array.isArray(body.zones) ? body.zones : [];
    surge = [];
    for (const z of zones) {
      const m = Number(z.multiplier);
      // A zone at 1× is priced as normal: it is not a surge, so it is not drawn.
      if (!(m > 1) || !Array.isArray(z.boundary) || z.boundary.length < 3) continue;
      const ring = z.boundary.map((p) => project(p[0], p[1]));
      const center = ring.reduce((a, p) => [a[0] + p[0] / ring.length, a[1] + p[1] / ring.length], [0, 0]);
      surge.push({ cell: String(z.cell), multiplier: m, label: '×' + Number(m.toFixed(2)), ring, center });
    }
    state.surgeZones = surge.length;
    state.surgeLabels = surge.map((z) => ({ cell: z.cell, label: z.label }));
    dirty = true;
  }

  // Access.
  function setAuth(kind, body) {
    const wasRefused = state.auth === 'refused';
    state.auth = kind;
    // A refused token would also close the live feed: the map goes on without it (public tracking, where allowed).
    if (kind === 'refused' && !wasRefused) reconnect();
    document.body.dataset.auth = kind;
    $('auth-need').hidden = kind === 'ok';
    $('auth-have').hidden = kind !== 'ok';
    if (kind === 'refused') {
      const code = body && body.error ? body.error.code : 'refused';
      $('auth-why').textContent = 'The token was refused (' + code + '): the order list and the details need a valid dispatcher or admin token.';
    } else if (kind === 'none') {
      $('auth-why').textContent = 'The map is public in demo mode; the order list and the details need a dispatcher or admin token.';
      renderOrderList();
    }
  }
  function useToken(t) {
    token = t || null;
    storeToken(token);
    orders = []; orderMarks = []; state.orders = 0;
    renderOrderList();
    state.auth = 'pending';
    reconnect();
    if (token) loadOrders(); else setAuth('none');
  }
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const t = $('token-input').value.trim();
    $('token-input').value = '';
    if (t) useToken(t);
  });
  $('token-clear').addEventListener('click', () => useToken(null));
  // A token pasted into the address bar of an open page (#token=…) is taken the same way, then removed.
  window.addEventListener('hashchange', () => {
    const m = /(?:^#|&)token=([^&]*)/.exec(location.hash);
    if (!m) return;
    history.replaceState(null, '', location.pathname + location.search);
    viewChanged();
    useToken(decodeURIComponent(m[1]) || null);
  });

  // The order list.
  let listCursor = null;   // the order id the keyboard cursor is on
  function etaText(o) {
    const when = (v) => {
      const ms = v > 1e12 ? v - Date.now() : v;   // an instant (ms since the epoch) or a duration in ms
      return ms < 60000 ? '<1 min' : Math.round(ms / 60000) + ' min';
    };
    const parts = [];
    if (typeof o.eta_pickup_ms === 'number' && o.status !== 'picked_up') parts.push('pick-up in ' + when(o.eta_pickup_ms));
    if (typeof o.eta_dropoff_ms === 'number') parts.push('drop-off in ' + when(o.eta_dropoff_ms));
    if (parts.length === 0 && typeof o.duration_s === 'number') parts.push('trip ' + Math.max(1, Math.round(o.duration_s / 60)) + ' min');
    return parts.join(' · ');
  }
  function renderOrderList() {
    const list = $('orders');
    const frag = document.createDocumentFragment();
    for (const o of orders) {
      const li = document.createElement('li');
      li.id = 'order-' + o.id;
      li.dataset.order = String(o.id);
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', String(o.id === listCursor));
      if (o.id === highlight.order) li.classList.add('open');
      const id = document.createElement('b'); id.textContent = '#' + o.id;
      const st = document.createElement('span'); st.className = 'badge status ' + o.status; st.textContent = o.status;
      const c = courierOf(o);
      const courier = document.createElement('span'); courier.className = 'courier';
      courier.textContent = c != null ? 'courier ' + c : 'no courier';
      const eta = document.createElement('span'); eta.className = 'eta'; eta.textContent = etaText(o);
      li.append(id, st, courier, eta);
      frag.append(li);
    }
    list.replaceChildren(frag);
    $('orders-count').textContent = token && state.auth === 'ok' ? '(' + orders.length + ')' : '';
    $('orders-empty').textContent = !token || state.auth !== 'ok' ? 'The live orders need a dispatcher or admin token.'
      : orders.length === 0 ? 'No live orders.' : '';
    state.ordersListed = orders.length;
    if (listCursor != null && !orders.some((o) => o.id === listCursor)) listCursor = null;
    state.listCursor = listCursor;
  }
  function moveCursor(step) {
    if (orders.length === 0) return;
    let i = orders.findIndex((o) => o.id === listCursor);
    i = i < 0 ? (step > 0 ? 0 : orders.length - 1) : Math.max(0, Math.min(orders.length - 1, i + step));
    listCursor = orders[i].id;
    state.listCursor = listCursor;
    for (const li of $('orders').children) li.setAttribute('aria-selected', String(li.dataset.order === String(listCursor)));
    const row = $('order-' + listCursor);
    if (row) row.scrollIntoView({ block: 'nearest' });
  }
  $('orders').addEventListener('click', (e) => {
    const li = e.target.closest('li[data-order]');
    if (!li) return;
    listCursor = Number(li.dataset.order);
    openOrder(listCursor);
  });

  // The details panel.
  const panel = $('panel');
  let panelSeq = 0;   // answers for a panel that was closed or replaced meanwhile are dropped
  function fmtTime(ms) {
    if (typeof ms !== 'number') return '–';
    const d = new Date(ms);
    return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }
  function fmtPoint(p) { const ll = latLngOf(p); return ll ? ll[0].toFixed(5) + ', ' + ll[1].toFixed(5) : '–'; }
  function el(tag, text, cls) { const e = document.createElement(tag); if (text != null) e.textContent = text; if (cls) e.className = cls; return e; }
  function ref(kind, id, text) {
    const a = el('a', text, 'ref');
    a.href = '#';
    a.dataset[kind] = String(id);
    return a;
  }
  function facts(pairs) {
    const dl = el('dl');
    for (const [k, v] of pairs) {
      dl.append(el('dt', k));
      const dd = el('dd');
      if (v instanceof Node) dd.append(v); else dd.textContent = v == null ? '–' : String(v);
      dl.append(dd);
    }
    return dl;
  }
  function showPanel(kind, id, title) {
    panel.hidden = false;
    panel.dataset.kind = kind;
    panel.dataset.id = String(id);
    $('panel-title').textContent = title;
    state.panel = { kind, id, loaded: false };
  }
  function closePanel() {
    panelSeq++;
    panel.hidden = true;
    panel.dataset.kind = ''; panel.dataset.id = '';
    highlight.driver = null; highlight.order = null; highlight.paths = []; highlight.stops = [];
    state.panel = null;
    renderOrderList();
    dirty = true;
  }
  $('panel-close').addEventListener('click', closePanel);
  panel.addEventListener('click', (e) => {
    const a = e.target.closest('a.ref');
    if (!a) return;
    e.preventDefault();
    if (a.dataset.driver) openDriver(Number(a.dataset.driver));
    else if (a.dataset.order) openOrder(Number(a.dataset.order));
  });
  function needToken(body) {
    body.append(el('p', 'Details need a dispatcher or admin token (see above).', 'muted'));
  }

  async function openOrder(id, center) {
    highlight.order = id; highlight.driver = null; highlight.paths = []; highlight.stops = [];
    routeKey = null;
    showPanel('order', id, 'Order #' + id);
    renderOrderList();
    const body = $('panel-body');
    body.replaceChildren(el('p', 'loading…', 'muted'));
    await refreshOrderPanel(center);
  }
  let routeKey = null;   // what the drawn route was computed for: recomputed only when it changes
  async function refreshOrderPanel(center) {
    const id = highlight.order;
    const seq = ++panelSeq;
    const body = $('panel-body');
    if (!token) { body.replaceChildren(); needToken(body); state.panel.loaded = true; return; }
    const [o, ev] = await Promise.all([api('/v1/orders/' + id), api('/v1/orders/' + id + '/events?limit=200')]);
    if (seq !== panelSeq || highlight.order !== id) return;
    if (!o.ok) {
      body.replaceChildren(el('p', o.status === 404 ? 'No order #' + id + '.' : 'The order could not be read (' + o.status + ').', 'muted'));
      state.panel = { kind: 'order', id, loaded: true, found: false };
      return;
    }
    const order = o.body;
    const c = courierOf(order);
    const content = [facts([
      ['status', el('span', order.status, 'badge status ' + order.status)],
      ['courier', c != null ? ref('driver', c, 'driver ' + c) : 'none yet'],
      ['customer', order.customer_id],
      ['ETA', etaText(order) || '–'],
      ['pick-up', fmtPoint(order.pickup)],
      ['drop-off', fmtPoint(order.dropoff)],
      ['fare', typeof order.price_cents === 'number' ? (order.price_cents / 100).toFixed(2) + ' ' + (order.currency || '') : null],
      ['trip', typeof order.distance_m === 'number' ? (order.distance_m / 1000).toFixed(1) + ' km · ' + Math.round((order.duration_s || 0) / 60) + ' min' : null],
      ['created', fmtTime(order.created_at_ms)],
    ])];
    content.push(el('h3', 'Timeline'));
    const events = ev.ok && ev.body && Array.isArray(ev.body.events) ? ev.body.events : null;
    if (events) {
      const ol = el('ol'); ol.id = 'timeline';
      for (const e of events) {
        const li = el('li'); li.dataset.to = e.to;
        const t = el('time', fmtTime(e.at_ms)); t.dateTime = new Date(e.at_ms).toISOString();
        const who = e.actor ? e.actor.role + (e.actor.id != null ? ' ' + e.actor.id : '') : '';
        li.append(t, ' ', el('b', (e.from ? e.from + ' → ' : '') + e.to), ' by ' + who + (e.reason ? ' (' + e.reason + ')' : ''));
        ol.append(li);
      }
      content.push(ol);
    } else {
      content.push(el('p', ev.status === 404 ? 'This engine keeps no timeline.' : 'The timeline could not be read.', 'muted'));
    }
    // The last route's summary stays until the route is recomputed (refreshes re-render the panel every 3 s).
    const routeNote = el('p', routeKey != null ? routeText : 'computing…', 'muted'); routeNote.id = 'route-note';
    content.push(el('h3', 'Route'), routeNote);
    body.replaceChildren(...content);
    const pickup = latLngOf(order.pickup), dropoff = latLngOf(order.dropoff);
    state.panel = { kind: 'order', id, loaded: true, found: true, status: order.status, courier: c,
                    timeline: events ? events.map((e) => e.to) : null, routeLegs: highlight.paths.length };
    if (center && pickup) { const [x, y] = project(pickup[0], pickup[1]); centerOn(x, y); }
    await drawOrderRoute(id, order, c, pickup, dropoff, seq);
  }
  async function drawOrderRoute(id, order, courier, pickup, dropoff, seq) {
    const note = () => $('route-note');
    const d = courier != null ? drivers.get(courier) : null;
    const key = [order.status, courier, d ? Math.round(d.lat * 1e3) + ',' + Math.round(d.lng * 1e3) : ''].join('|');
    if (key === routeKey) { if (note()) note().textContent = routeText; return; }
    // The courier's planned stops when the engine plans routes (404 when it does not), else legs on the road network.
    let points = [];
    let planned = false;
    if (courier != null) {
      const r = await api('/v1/drivers/' + courier + '/route');
      if (seq !== panelSeq) return;
      if (r.ok && r.body && Array.isArray(r.body.stops)) {
        planned = true;
        highlight.stops = r.body.stops.map((s) => ({ type: s.type, order: s.order, at: project(s.lat, s.lng) }));
        points = r.body.stops.map((s) => [s.lat, s.lng]);
      }
    }
    if (!planned) {
      highlight.stops = [];
      if (order.status !== 'picked_up' && pickup) points.push(pickup);
      if (dropoff) points.push(dropoff);
    }
    if (d && (order.status === 'dispatched' || order.status === 'accepted' || order.status === 'picked_up' || planned)) points.unshift([d.lat, d.lng]);
    const legs = [];
    let meters = 0, seconds = 0;
    for (let i = 0; i + 1 < points.length; i++) {
      const a = points[i], b = points[i + 1];
      const r = await api('/v1/route?from=' + a[0] + ',' + a[1] + '&to=' + b[0] + ',' + b[1]);
      if (seq !== panelSeq) return;
      if (r.ok && r.body && typeof r.body.polyline === 'string') {
        legs.push(decodePolyline(r.body.polyline).map(([lat, lng]) => project(lat, lng)));
        meters += r.body.distance_m || 0; seconds += r.body.duration_s || 0;
      } else {
        legs.push([project(a[0], a[1]), project(b[0], b[1])]);   // no road route: a straight line
      }
    }
    routeKey = key;
    highlight.paths = legs;
    routeText = legs.length === 0 ? 'No route to draw.'
      : (planned ? 'The courier\'s planned stops' : d ? 'Courier → ' + (order.status === 'picked_up' ? 'drop-off' : 'pick-up → drop-off') : 'Pick-up → drop-off (no courier yet)')
        + ': ' + (meters / 1000).toFixed(1) + ' km, ' + Math.round(seconds / 60) + ' min on the roads.';
    if (note()) note().textContent = routeText;
    if (state.panel && state.panel.id === id) state.panel.routeLegs = legs.length;
    dirty = true;
  }
  let routeText = '';
  /** Encoded polyline (precision 5) → [[lat, lng], …]. */
  function decodePolyline(text) {
    const out = [];
    let i = 0, lat = 0, lng = 0;
    const next = () => {
      let result = 0, shift = 0, b;
      do { b = text.charCodeAt(i++) - 63; result |= (b & 0x1f) << shift; shift += 5; } while (b >= 0x20 && i < text.length);
      return (result & 1) ? ~(result >> 1) : (result >> 1);
    };
    while (i < text.length) {
      lat += next(); if (i >= text.length) break;
      lng += next();
      out.push([lat / 1e5, lng / 1e5]);
    }
    return out;
  }

  async function openDriver(id, center) {
    highlight.driver = id; highlight.order = null; highlight.paths = []; highlight.stops = [];
    showPanel('driver', id, 'Driver ' + id);
    renderOrderList();
    const d = drivers.get(id);
    if (center && d) centerOn(d.x, d.y);
    await refreshDriverPanel();
  }
  async function refreshDriverPanel() {
    const id = highlight.driver;
    const seq = ++panelSeq;
    const body = $('panel-body');
    const live = drivers.get(id);
    const content = [];
    let s = live ? { status: live.status, ts: live.ts, lat: live.lat, lng: live.lng } : null;
    let current = null, route = null;
    if (token) {
      const [st, cur, rt] = await Promise.all([api('/v1/drivers/' + id),
        api('/v1/orders?courier_id=' + id + '&status=dispatched,accepted,picked_up&limit=20'), api('/v1/drivers/' + id + '/route')]);
      if (seq !== panelSeq || highlight.driver !== id) return;
      if (st.ok && st.body) s = st.body;
      if (cur.ok && cur.body && Array.isArray(cur.body.orders)) current = cur.body.orders;
      if (rt.ok && rt.body && Array.isArray(rt.body.stops)) route = rt.body.stops;
    }
    if (!s) {
      body.replaceChildren(el('p', 'No driver ' + id + ' is on the map.', 'muted'));
      state.panel = { kind: 'driver', id, loaded: true, found: false };
      return;
    }
    content.push(facts([
      ['status', el('span', s.status, 'badge')],
      ['position', typeof s.lat === 'number' ? s.lat.toFixed(5) + ', ' + s.lng.toFixed(5) : '–'],
      ['last fix', typeof s.ts === 'number' ? fmtTime(s.ts) + ' (' + Math.max(0, Math.round((Date.now() - s.ts) / 1000)) + ' s ago)' : '–'],
      // As on the wire: speed in cm/s, heading in centidegrees (65535: unknown).
      ['speed', typeof s.speed === 'number' ? (s.speed * 0.036).toFixed(0) + ' km/h' : null],
      ['heading', typeof s.heading === 'number' && s.heading !== 65535 ? Math.round(s.heading / 100) + '°' : null],
    ]));
    content.push(el('h3', 'Current orders'));
    if (current) {
      if (current.length === 0) content.push(el('p', 'none', 'muted'));
      const ul = el('ul'); ul.id = 'driver-orders';
      for (const o of current) {
        const li = el('li'); li.append(ref('order', o.id, '#' + o.id), ' ', el('span', o.status, 'badge status ' + o.status), ' ' + etaText(o));
        ul.append(li);
      }
      content.push(ul);
    } else {
      content.push(el('p', 'Needs a dispatcher or admin token (see above).', 'muted'));
    }
    // Planned stops: only engines that plan courier routes answer /v1/drivers/{id}/route.
    highlight.stops = [];
    highlight.paths = [];
    if (route) {
      content.push(el('h3', 'Planned stops'));
      const ol = el('ol'); ol.id = 'driver-stops';
      for (const st of route) {
        const li = el('li');
        li.append(el('b', st.type), ' ', ref('order', st.order, '#' + st.order),
          typeof st.eta_ms === 'number' ? ' · ETA ' + fmtTime(st.eta_ms > 1e12 ? st.eta_ms : Date.now() + st.eta_ms) : '');
        ol.append(li);
        if (typeof st.lat === 'number') highlight.stops.push({ type: st.type, order: st.order, at: project(st.lat, st.lng) });
      }
      content.push(ol);
      if (live && highlight.stops.length) highlight.paths = [[[live.x, live.y], ...highlight.stops.map((x) => x.at)]];
    }
    body.replaceChildren(...content);
    state.panel = { kind: 'driver', id, loaded: true, found: true, status: s.status,
                    orders: current ? current.map((o) => o.id) : null, stops: route ? route.length : null };
    dirty = true;
  }

  // Search: "42" (an order in the list, a driver on the map, then the API), "o42" / "#42" an order, "d42" a driver.
  $('search-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const msg = $('search-msg');
    const m = /^\s*([dDoO#]?)\s*(\d{1,20})\s*$/.exec($('search').value);
    if (!m) { msg.textContent = 'Type an id: 42, d42 (driver) or o42 (order).'; return; }
    const kind = m[1].toLowerCase(), id = Number(m[2]);
    msg.textContent = '';
    const isOrder = async () => orders.some((o) => o.id === id) || (token && (await api('/v1/orders/' + id)).ok);
    const isDriver = async () => drivers.has(id) || (token && (await api('/v1/drivers/' + id)).ok);
    if (kind === 'o' || kind === '#') { if (await isOrder()) openOrder(id, true); else msg.textContent = 'No order #' + id + (token ? '.' : ' (the order search needs a token).'); }
    else if (kind === 'd') { if (await isDriver()) openDriver(id, true); else msg.textContent = 'No driver ' + id + ' on the map.'; }
    else if (orders.some((o) => o.id === id)) openOrder(id, true);
    else if (drivers.has(id)) openDriver(id, true);
    else if (await isOrder()) openOrder(id, true);
    else if (await isDriver()) openDriver(id, true);
    else msg.textContent = 'No driver or order ' + id + '.';
    $('search').blur();
  });

  // Keyboard: / finds, Esc closes, ↑/↓ move in the order list, Enter opens the order under the cursor.
  document.addEventListener('keydown', (e) => {
    const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement;
    if (e.key === 'Escape') {
      if (typing) e.target.blur();
      if (!panel.hidden) closePanel();
      return;
    }
    if (typing || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === '/') { e.preventDefault(); $('search').focus(); $('search').select(); }
    else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') { e.preventDefault(); moveCursor(e.key === 'ArrowDown' ? 1 : -1); dirty = true; }
    else if (e.key === 'Enter' && listCursor != null && (e.target === document.body || e.target === $('orders'))) {
      e.preventDefault(); openOrder(listCursor, true);
    }
  });

  // Live positions.
  let socket = null;
  let subscribed = null;
  let retryMs = 500;
  function reconnect() {
    if (socket) { const old = socket; socket = null; old.onclose = null; old.close(); }
    connect();
  }
  function connect() {
    const feedToken = state.auth === 'refused' ? null : token;
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/v1/ws/track' +
      (feedToken ? '?token=' + encodeURIComponent(feedToken) : '');
    const ws = new WebSocket(url);
    socket = ws;
    ws.onopen = () => {
      retryMs = 500;
      state.connected = true;
      document.body.dataset.connected = 'true';
      setStatus('live', true);
      subscribed = null;
      resubscribe();
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      let m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      state.messages++;
      if (m.type === 'positions' && Array.isArray(m.drivers)) onPositions(m.drivers);
      else if (m.type === 'error') { state.errors.push(m.code); setStatus(m.code + ': ' + m.message, false); }
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      state.connected = false;
      document.body.dataset.connected = 'false';
      setStatus('reconnecting…', false);
      setTimeout(connect, retryMs);
      retryMs = Math.min(10000, retryMs * 2);
    };
  }
  function setStatus(text, ok) {
    statusEl.textContent = text;
    statusEl.className = ok ? 'ok' : 'bad';
  }
  function resubscribe() {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    const bbox = (fitted || userMoved || roads.length > 0 || initialHash) ? viewportBBox() : [-85, -180, 85, 180];
    const key = bbox.join(',');
    if (subscribed === key) return;
    if (subscribed) socket.send(JSON.stringify({ op: 'unsubscribe', bbox: subscribed.split(',').map(Number) }));
    socket.send(JSON.stringify({ op: 'subscribe', bbox: bbox }));
    subscribed = key;
  }
  function onPositions(list) {
    const now = performance.now();
    for (const d of list) {
      if (typeof d.lat !== 'number' || typeof d.lng !== 'number') continue;
      const [x, y] = project(d.lat, d.lng);
      const old = drivers.get(d.id);
      if (old) {
        const [cx, cy] = currentPosition(old, now);
        Object.assign(old, { fromX: cx, fromY: cy, x, y, t0: now, status: d.status, ts: d.ts, lat: d.lat, lng: d.lng });
      } else {
        drivers.set(d.id, { x, y, fromX: x, fromY: y, t0: now, status: d.status, ts: d.ts, lat: d.lat, lng: d.lng });
      }
    }
    state.positionsReceived += list.length;
    state.lastUpdate = Date.now();
    state.driversKnown = drivers.size;
    if (!fitted && !userMoved && roads.length === 0 && !initialHash && drivers.size > 0) {
      fitTo(Array.from(drivers.values(), (d) => [d.x, d.y]));
    }
    dirty = true;
  }
  // A driver the feed has not mentioned for a while went offline, was evicted or left the viewport: not drawn
  // any more (drivers ping every few seconds, and each accepted ping reaches the subscribers).
  const FORGET_MS = 30000;
  setInterval(() => {
    const now = performance.now();
    for (const [id, d] of drivers) if (now - d.t0 > FORGET_MS && id !== highlight.driver) drivers.delete(id);
    state.driversKnown = drivers.size;
    dirty = true;
  }, 5000);
  const GLIDE_MS = 900;
  function currentPosition(d, now) {
    const t = Math.min(1, (now - d.t0) / GLIDE_MS);
    return [d.fromX + (d.x - d.fromX) * t, d.fromY + (d.y - d.fromY) * t];
  }

  // Pointer: drag pans, a click (no drag) on a driver or an order's pick-up opens its details.
  function driverRadius() { return Math.max(3, Math.min(7, view.zoom - 8)) * devicePixelRatio; }
  function hitTest(px, py) {
    const now = performance.now();
    const reach = driverRadius() + 5 * devicePixelRatio;
    let best = null, bestD = Infinity;
    for (const [id, d] of drivers) {
      const [sx, sy] = toScreen(...currentPosition(d, now));
      const dist = Math.hypot(sx - px, sy - py);
      if (dist <= reach && dist < bestD) { best = { kind: 'driver', id }; bestD = dist; }
    }
    if (best) return best;
    for (const o of orderMarks) {
      const [sx, sy] = toScreen(o.pickup[0], o.pickup[1]);
      const dist = Math.hypot(sx - px, sy - py);
      if (dist <= 8 * devicePixelRatio && dist < bestD) { best = { kind: 'order', id: o.id }; bestD = dist; }
    }
    return best;
  }
  let drag = null;
  canvas.addEventListener('pointerdown', (e) => {
    drag = { x: e.clientX, y: e.clientY, moved: 0 };
    canvas.setPointerCapture(e.pointerId);
    canvas.classList.add('dragging');
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!drag) {
      canvas.classList.toggle('pointing', hitTest(e.offsetX * devicePixelRatio, e.offsetY * devicePixelRatio) !== null);
      return;
    }
    const s = scale() / devicePixelRatio;
    drag.moved += Math.abs(e.clientX - drag.x) + Math.abs(e.clientY - drag.y);
    if (drag.moved < 4) return;   // a click's jitter is not a pan
    view.x -= (e.clientX - drag.x) / s;
    view.y -= (e.clientY - drag.y) / s;
    drag.x = e.clientX; drag.y = e.clientY;
    userMoved = true;
    viewChanged();
  });
  canvas.addEventListener('pointerup', (e) => {
    const click = drag && drag.moved < 4;
    drag = null;
    canvas.classList.remove('dragging');
    if (!click) return;
    const hit = hitTest(e.offsetX * devicePixelRatio, e.offsetY * devicePixelRatio);
    if (hit && hit.kind === 'driver') openDriver(hit.id);
    else if (hit) { listCursor = hit.id; openOrder(hit.id); }
  });
  canvas.addEventListener('pointercancel', () => { drag = null; canvas.classList.remove('dragging'); });
  canvas.addEventListener('wheel', (e) => {
    e.preventDefault();
    const px = e.offsetX * devicePixelRatio, py = e.offsetY * devicePixelRatio;
    const [wx, wy] = toWorld(px, py);
    view.zoom = Math.max(1, Math.min(19, view.zoom - Math.sign(e.deltaY) * 0.25));
    const [nx, ny] = toWorld(px, py);
    view.x += wx - nx; view.y += wy - ny;
    userMoved = true;
    viewChanged();
  }, { passive: false });

  let resubTimer = null;
  function viewChanged() {
    dirty = true;
    const [lat, lng] = unproject(view.x, view.y);
    state.view = { lat, lng, zoom: view.zoom };
    history.replaceState(null, '', location.pathname + location.search + '#' + lat.toFixed(5) + ',' + lng.toFixed(5) + ',' + view.zoom.toFixed(2));
    clearTimeout(resubTimer);
    resubTimer = setTimeout(resubscribe, 200);
  }
  function parseHash(text) {
    const m = /^(-?[\d.]+),(-?[\d.]+),([\d.]+)$/.exec(text);
    return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
  }
  function resize() {
    canvas.width = Math.floor(canvas.clientWidth * devicePixelRatio);
    canvas.height = Math.floor(canvas.clientHeight * devicePixelRatio);
    dirty = true;
  }
  window.addEventListener('resize', () => { resize(); viewChanged(); });

  // Helpers for tests: page (CSS) pixels of drivers as drawn now.
  state.driversOnScreen = function () {
    const now = performance.now(), out = [];
    for (const [id, d] of drivers) {
      const [sx, sy] = toScreen(...currentPosition(d, now));
      if (sx >= 0 && sy >= 0 && sx < canvas.width && sy < canvas.height) out.push({ id, x: sx / devicePixelRatio, y: sy / devicePixelRatio, status: d.status });
    }
    return out;
  };

  // Drawing.
  let dirty = true;
  function drawGrid() {
    ctx.strokeStyle = 'rgba(0,0,0,0.06)';
    ctx.lineWidth = 1;
    const step = 64 * devicePixelRatio;
    const [ox, oy] = toScreen(0, 0);
    ctx.beginPath();
    for (let x = ((ox % step) + step) % step; x < canvas.width; x += step) { ctx.moveTo(x, 0); ctx.lineTo(x, canvas.height); }
    for (let y = ((oy % step) + step) % step; y < canvas.height; y += step) { ctx.moveTo(0, y); ctx.lineTo(canvas.width, y); }
    ctx.stroke();
  }
  function drawRoads() {
    const s = scale(), cx = canvas.width / 2 - view.x * s, cy = canvas.height / 2 - view.y * s;
    const w = canvas.width, h = canvas.height;
    ctx.strokeStyle = '#c9c3b8';
    ctx.lineWidth = Math.max(0.5, Math.min(3, (view.zoom - 10) * 0.5)) * devicePixelRatio;
    ctx.beginPath();
    let n = 0;
    for (let i = 0; i < roads.length; i += 4) {
      const x1 = roads[i] * s + cx, y1 = roads[i + 1] * s + cy, x2 = roads[i + 2] * s + cx, y2 = roads[i + 3] * s + cy;
      if ((x1 < 0 && x2 < 0) || (y1 < 0 && y2 < 0) || (x1 > w && x2 > w) || (y1 > h && y2 > h)) continue;
      ctx.moveTo(x1, y1); ctx.lineTo(x2, y2);
      n++;
    }
    ctx.stroke();
    state.roadsDrawn = n;
  }
  function drawSurge() {
    for (const z of surge) {
      const a = Math.max(0.1, Math.min(0.5, (z.multiplier - 1) * 0.35));
      ctx.fillStyle = 'rgba(231,76,60,' + a + ')';
      ctx.strokeStyle = 'rgba(192,57,43,0.6)';
      ctx.lineWidth = 1 * devicePixelRatio;
      ctx.beginPath();
      z.ring.forEach(([x, y], i) => { const [px, py] = toScreen(x, y); if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py); });
      ctx.closePath();
      ctx.fill();
      ctx.stroke();
    }
  }
  // Labels go on top of everything, so no driver hides a zone's multiplier.
  function drawSurgeLabels() {
    ctx.font = 'bold ' + (12 * devicePixelRatio) + 'px system-ui, sans-serif';
    ctx.textAlign = 'center'; ctx.textBaseline = 'middle';
    for (const z of surge) {
      const [px, py] = toScreen(z.center[0], z.center[1]);
      ctx.lineWidth = 3 * devicePixelRatio; ctx.strokeStyle = 'rgba(255,255,255,0.9)';
      ctx.strokeText(z.label, px, py);
      ctx.fillStyle = '#8e1f14';
      ctx.fillText(z.label, px, py);
    }
  }
  function drawOrders(now) {
    const r = 4 * devicePixelRatio;
    for (const o of orderMarks) {
      const [px, py] = toScreen(o.pickup[0], o.pickup[1]);
      if (o.dropoff) {
        const [dx, dy] = toScreen(o.dropoff[0], o.dropoff[1]);
        ctx.lineWidth = 1 * devicePixelRatio;
        ctx.strokeStyle = 'rgba(192,57,43,0.5)'; ctx.setLineDash([4, 4]);
        ctx.beginPath(); ctx.moveTo(px, py); ctx.lineTo(dx, dy); ctx.stroke(); ctx.setLineDash([]);
      }
      const courier = o.courier != null ? drivers.get(o.courier) : null;
      if (courier && o.id !== highlight.order) {
        const [cx, cy] = currentPosition(courier, now);
        const [sx, sy] = toScreen(cx, cy);
        ctx.strokeStyle = '#2f6fd6'; ctx.lineWidth = 1.5 * devicePixelRatio;
        ctx.beginPath(); ctx.moveTo(sx, sy); ctx.lineTo(px, py); ctx.stroke();
      }
      ctx.fillStyle = '#c0392b';
      ctx.fillRect(px - r, py - r, 2 * r, 2 * r);
    }
  }
  function drawHighlight(now) {
    ctx.lineJoin = 'round'; ctx.lineCap = 'round';
    for (const path of highlight.paths) {
      if (path.length < 2) continue;
      for (const [width, color] of [[7, 'rgba(255,255,255,0.9)'], [4, '#1f5fc9']]) {
        ctx.lineWidth = width * devicePixelRatio; ctx.strokeStyle = color;
        ctx.beginPath();
        path.forEach(([x, y], i) => { const [px, py] = toScreen(x, y); if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py); });
        ctx.stroke();
      }
    }
    const o = highlight.order != null ? orderMarks.find((m) => m.id === highlight.order) : null;
    const stops = highlight.stops.length ? highlight.stops
      : o ? [{ type: 'pickup', at: o.pickup }].concat(o.dropoff ? [{ type: 'dropoff', at: o.dropoff }] : []) : [];
    for (const s of stops) {
      const [px, py] = toScreen(s.at[0], s.at[1]);
      ctx.lineWidth = 3 * devicePixelRatio;
      ctx.fillStyle = '#ffffff';
      ctx.strokeStyle = s.type === 'dropoff' ? '#16803c' : '#c0392b';
      ctx.beginPath(); ctx.arc(px, py, 7 * devicePixelRatio, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
    }
    const id = highlight.driver != null ? highlight.driver : o ? o.courier : null;
    const d = id != null ? drivers.get(id) : null;
    if (d) {
      const [sx, sy] = toScreen(...currentPosition(d, now));
      ctx.lineWidth = 2.5 * devicePixelRatio; ctx.strokeStyle = '#111';
      ctx.beginPath(); ctx.arc(sx, sy, driverRadius() + 4 * devicePixelRatio, 0, 2 * Math.PI); ctx.stroke();
    }
  }
  function drawDrivers(now) {
    const r = driverRadius();
    let drawn = 0;
    const w = canvas.width, h = canvas.height;
    ctx.lineWidth = 1.5 * devicePixelRatio;
    ctx.strokeStyle = '#ffffff';
    for (const d of drivers.values()) {
      const [x, y] = currentPosition(d, now);
      const [px, py] = toScreen(x, y);
      if (px < -r || py < -r || px > w + r || py > h + r) continue;
      ctx.fillStyle = STATUS_COLORS[d.status] || '#8a8a8a';
      ctx.beginPath();
      ctx.arc(px, py, r, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
      drawn++;
    }
    state.driversDrawn = drawn;
    document.body.dataset.drivers = String(drawn);
    countEl.textContent = drawn + ' drivers';
  }
  let gliding = 0;
  function frame() {
    const now = performance.now();
    if (dirty || now < gliding) {
      if (dirty) gliding = now + GLIDE_MS;
      dirty = false;
      ctx.fillStyle = '#f4f2ee';
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      if (roads.length === 0) drawGrid(); else drawRoads();
      drawSurge();
      drawOrders(now);
      drawHighlight(now);
      drawDrivers(now);
      drawSurgeLabels();
    }
    requestAnimationFrame(frame);
  }

  resize();
  // Read once: viewChanged() rewrites the hash from then on, so later reads would see our own view, not the user's.
  const initialHash = parseHash(viewHash);
  if (initialHash) {
    const [x, y] = project(initialHash[0], initialHash[1]);
    view.x = x; view.y = y; view.zoom = initialHash[2];
    fitted = true;
  }
  viewChanged();
  setAuth(token ? 'pending' : 'none');
  connect();
  loadRoads();
  loadSurge();
  loadOrders();
  setInterval(loadSurge, 10000);
  setInterval(loadOrders, ORDERS_POLL_MS);
  requestAnimationFrame(frame);
})();

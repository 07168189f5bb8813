// Hexfleet live map: plain browser APIs, no external tiles or libraries.
// Web Mercator on a canvas; roads from /v1/map/roads, drivers over /v1/ws/track (viewport bbox subscription),
// orders from /v1/orders, surge hexagons from /v1/surge. Missing endpoints (404) are skipped quietly.
(function () {
  'use strict';

  const STATUS_COLORS = {
    available: '#2e9d57', to_pickup: '#e0a100', on_trip: '#2f6fd6', break: '#9b59b6', offline: '#8a8a8a',
  };
  const params = new URLSearchParams(location.search);
  const token = params.get('token');
  const canvas = document.getElementById('map');
  const ctx = canvas.getContext('2d');
  const statusEl = document.getElementById('status');
  const countEl = document.getElementById('count');

  // Exposed for tests and debugging.
  const state = window.hexfleet = {
    driversDrawn: 0, driversKnown: 0, lastUpdate: 0, positionsReceived: 0, messages: 0,
    roadsDrawn: 0, surgeZones: 0, orders: 0, connected: false, errors: [], view: null,
  };

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

  // Data.
  let roads = new Float64Array(0);        // x1,y1,x2,y2 in world units, per segment
  const drivers = new Map();              // id → {x, y, fromX, fromY, t0, status, ts, seen}
  let surge = [];                         // [{multiplier, ring: [[x,y],…]}]
  let orders = [];                        // [{pickup:[x,y], dropoff:[x,y]|null, courier:id|null}]

  function authHeaders() { return token ? { Authorization: 'Bearer ' + token } : {}; }
  async function getJSON(path) {
    try {
      const r = await fetch(path, { headers: authHeaders() });
      if (!r.ok) return null;
      return await r.json();
    } catch (e) { return null; }
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
  async function loadOrders() {
    const body = await getJSON('/v1/orders?status=created,quoted,dispatched,accepted,picked_up');
    const list = body && Array.isArray(body.orders) ? body.orders : [];
    orders = [];
    for (const o of list) {
      const p = latLngOf(o.pickup) || (typeof o.pickup_lat === 'number' ? [o.pickup_lat, o.pickup_lng] : null);
      if (!p) continue;
      const d = latLngOf(o.dropoff) || (typeof o.dropoff_lat === 'number' ? [o.dropoff_lat, o.dropoff_lng] : null);
      orders.push({ pickup: project(p[0], p[1]), dropoff: d ? project(d[0], d[1]) : null,
                    courier: o.courier ?? o.courier_id ?? o.driver_id ?? null });
    }
    state.orders = orders.length;
    dirty = true;
  }
  async function loadSurge() {
    const body = await getJSON('/v1/surge');
    const zones = body && Array.isArray(body.zones) ? body.zones : [];
    surge = [];
    for (const z of zones) {
      if (!Array.isArray(z.boundary) || z.boundary.length < 3) continue;
      surge.push({ multiplier: Number(z.multiplier) || 1, ring: z.boundary.map((p) => project(p[0], p[1])) });
    }
    state.surgeZones = surge.length;
    dirty = true;
  }

  // Live positions.
  let socket = null;
  let subscribed = null;
  let retryMs = 500;
  function connect() {
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/v1/ws/track' +
      (token ? '?token=' + encodeURIComponent(token) : '');
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
      state.connected = false;
      document.body.dataset.connected = 'false';
      setStatus('reconnecting…', false);
      if (socket === ws) setTimeout(connect, retryMs);
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
        old.fromX = cx; old.fromY = cy; old.x = x; old.y = y; old.t0 = now; old.status = d.status; old.ts = d.ts;
      } else {
        drivers.set(d.id, { x, y, fromX: x, fromY: y, t0: now, status: d.status, ts: d.ts });
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
  const GLIDE_MS = 900;
  function currentPosition(d, now) {
    const t = Math.min(1, (now - d.t0) / GLIDE_MS);
    return [d.fromX + (d.x - d.fromX) * t, d.fromY + (d.y - d.fromY) * t];
  }

  // Interaction.
  let drag = null;
  canvas.addEventListener('pointerdown', (e) => {
    drag = { x: e.clientX, y: e.clientY };
    canvas.setPointerCapture(e.pointerId);
    canvas.classList.add('dragging');
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!drag) return;
    const s = scale() / devicePixelRatio;
    view.x -= (e.clientX - drag.x) / s;
    view.y -= (e.clientY - drag.y) / s;
    drag = { x: e.clientX, y: e.clientY };
    userMoved = true;
    viewChanged();
  });
  const endDrag = () => { drag = null; canvas.classList.remove('dragging'); };
  canvas.addEventListener('pointerup', endDrag);
  canvas.addEventListener('pointercancel', endDrag);
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
    state.view = { lat: unproject(view.x, view.y)[0], lng: unproject(view.x, view.y)[1], zoom: view.zoom };
    const [lat, lng] = unproject(view.x, view.y);
    history.replaceState(null, '', '#' + lat.toFixed(5) + ',' + lng.toFixed(5) + ',' + view.zoom.toFixed(2));
    clearTimeout(resubTimer);
    resubTimer = setTimeout(resubscribe, 200);
  }
  function parseHash() {
    const m = /^#(-?[\d.]+),(-?[\d.]+),([\d.]+)$/.exec(location.hash);
    return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
  }
  function resize() {
    canvas.width = Math.floor(canvas.clientWidth * devicePixelRatio);
    canvas.height = Math.floor(canvas.clientHeight * devicePixelRatio);
    dirty = true;
  }
  window.addEventListener('resize', () => { resize(); viewChanged(); });

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
      const a = Math.max(0.08, Math.min(0.5, (z.multiplier - 1) * 0.35));
      ctx.fillStyle = 'rgba(231,76,60,' + a + ')';
      ctx.strokeStyle = 'rgba(192,57,43,0.5)';
      ctx.beginPath();
      z.ring.forEach(([x, y], i) => { const [px, py] = toScreen(x, y); if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py); });
      ctx.closePath();
      ctx.fill();
      ctx.stroke();
    }
  }
  function drawOrders(now) {
    const r = 4 * devicePixelRatio;
    for (const o of orders) {
      const [px, py] = toScreen(o.pickup[0], o.pickup[1]);
      if (o.dropoff) {
        const [dx, dy] = toScreen(o.dropoff[0], o.dropoff[1]);
        ctx.strokeStyle = 'rgba(192,57,43,0.5)'; ctx.setLineDash([4, 4]);
        ctx.beginPath(); ctx.moveTo(px, py); ctx.lineTo(dx, dy); ctx.stroke(); ctx.setLineDash([]);
      }
      const courier = o.courier != null ? drivers.get(o.courier) : null;
      if (courier) {
        const [cx, cy] = currentPosition(courier, now);
        const [sx, sy] = toScreen(cx, cy);
        ctx.strokeStyle = '#2f6fd6'; ctx.lineWidth = 1.5 * devicePixelRatio;
        ctx.beginPath(); ctx.moveTo(sx, sy); ctx.lineTo(px, py); ctx.stroke();
      }
      ctx.fillStyle = '#c0392b';
      ctx.fillRect(px - r, py - r, 2 * r, 2 * r);
    }
  }
  function drawDrivers(now) {
    const r = Math.max(3, Math.min(7, view.zoom - 8)) * devicePixelRatio;
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
      drawDrivers(now);
    }
    requestAnimationFrame(frame);
  }

  resize();
  // Read once: viewChanged() rewrites the hash from then on, so later reads would see our own view, not the user's.
  const initialHash = parseHash();
  if (initialHash) {
    const [x, y] = project(initialHash[0], initialHash[1]);
    view.x = x; view.y = y; view.zoom = initialHash[2];
    fitted = true;
  }
  viewChanged();
  connect();
  loadRoads();
  loadSurge();
  loadOrders();
  setInterval(loadSurge, 10000);
  setInterval(loadOrders, 5000);
  requestAnimationFrame(frame);
})();

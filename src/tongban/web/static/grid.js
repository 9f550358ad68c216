/* 城市网格化管理: the maps of the report page, the case page and the map page.
 *
 * Leaflet from npm (/static/vendor/leaflet), no tiles from anywhere: the base layer is the
 * platform's own (/grid/base.geojson: streets, communities and roads made from the current grid),
 * cells and cases come from the grid API. Colours are CSS classes (grid.css): the CSP allows no
 * inline style, and every popup is built from DOM nodes, never from HTML strings.
 */
(function () {
  "use strict";

  var CELL_ZOOM = 16; // cells are fetched for the visible bounds from this zoom on
  var DEFAULT_VIEW = [31.225, 121.535];
  var POPUP = { autoPanPaddingTopLeft: [56, 16], autoPanPadding: [16, 16] }; // clear of the zoom buttons

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function row(parent, label, value) {
    var line = el("div", "wg-popup-row");
    line.appendChild(el("span", "wg-popup-label", label + "："));
    line.appendChild(el("span", null, value));
    parent.appendChild(line);
  }

  function getJSON(url, signal) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, signal: signal })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      });
  }

  /* A map over the platform's base layer; resolves once the base layer is drawn. */
  function baseMap(element, options) {
    var map = L.map(element, { attributionControl: false, zoomControl: false, minZoom: 11, maxZoom: 19, zoomSnap: 0.5,
                               tap: true, scrollWheelZoom: options.scrollWheelZoom !== false });
    L.control.zoom({ zoomInTitle: "放大", zoomOutTitle: "缩小" }).addTo(map);
    map.on("popupopen", function (event) { // Leaflet names its close button in English
      var close = event.popup.getElement() && event.popup.getElement().querySelector(".leaflet-popup-close-button");
      if (close) { close.setAttribute("aria-label", "关闭"); close.setAttribute("title", "关闭"); }
    });
    map.setView(options.center || DEFAULT_VIEW, options.zoom || 14);
    // The base layer under the cells, the cells under the cases (Leaflet's overlay pane, 400).
    map.createPane("wg-base").style.zIndex = 350;
    map.createPane("wg-cells").style.zIndex = 380;
    var drawn = getJSON("/grid/base.geojson").then(function (data) {
      var layer = L.geoJSON(data, {
        pane: "wg-base",
        interactive: false,
        style: function (feature) { return { className: "wg-base wg-" + feature.properties.layer }; },
        onEachFeature: function (feature, shape) {
          if (feature.properties.layer === "street" && options.labels !== false) {
            shape.bindTooltip(feature.properties.name, { permanent: true, direction: "center", className: "wg-label" });
          }
        }
      }).addTo(map);
      // Not animated: an animation's end would move the map back over a position placed meanwhile.
      if (!options.center && !(options.placed && options.placed())) { map.fitBounds(layer.getBounds(), { padding: [8, 8], animate: false }); }
      return layer;
    }).catch(function () {
      element.classList.add("wg-map-failed");
      return null;
    });
    return { map: map, drawn: drawn };
  }

  /* One layer of the visible bounds, fetched again as the map moves (from CELL_ZOOM on, and while
     ``shown()`` says so): ``url`` answers GeoJSON for a bbox; ``draw(layer, data)`` puts it on the
     layer; ``onCount`` hears how many were drawn (null: none asked). An earlier fetch still on its
     way is aborted. Returns the refresh, for a control that changes ``shown``. */
  function followView(map, layer, url, draw, onCount, shown) {
    var pending = null;
    function refresh() {
      if (pending) { pending.abort(); }
      if (map.getZoom() < CELL_ZOOM || (shown && !shown())) {
        layer.clearLayers();
        if (onCount) { onCount(null); }
        return;
      }
      var b = map.getBounds().pad(0.2);
      var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); }).join(",");
      pending = new AbortController();
      getJSON(url + "?bbox=" + bbox, pending.signal).then(function (data) {
        layer.clearLayers();
        draw(layer, data);
        if (onCount) { onCount(data.features.length); }
      }).catch(function () { /* aborted, or too many: the next move asks again */ });
    }
    map.on("moveend", refresh);
    refresh();
    return refresh;
  }

  /* The cells of the visible bounds. */
  function cellLayer(map, options) {
    var layer = L.geoJSON(null, {
      pane: "wg-cells",
      style: function (feature) {
        var chosen = options.highlight && feature.properties.code === options.highlight;
        return { className: "wg-cell" + (chosen ? " wg-cell-chosen" : ""), interactive: !!options.popups };
      },
      onEachFeature: function (feature, shape) {
        if (!options.popups) { return; }
        var p = feature.properties;
        var box = el("div", "wg-popup");
        box.appendChild(el("strong", null, "单元网格 " + p.code));
        row(box, "街道", p.street);
        row(box, "社区", p.community);
        row(box, "用地", p.land_use);
        row(box, "面积", Math.round(p.area_m2) + " 平方米");
        // The map's popup, not the cell's: the cells are fetched again as the map moves (the
        // popup's own pan too), which would close a popup bound to a cell.
        shape.on("click", function (event) { L.popup(POPUP).setLatLng(event.latlng).setContent(box).openOn(map); });
      }
    }).addTo(map);
    followView(map, layer, "/api/v1/grid/cells.geojson", function (into, data) { into.addData(data); }, options.onCount);
    return layer;
  }

  // The components census (部件) in view, from the same zoom as the cells: small squares by state.
  function componentLayer(map, onCount) {
    var layer = L.layerGroup().addTo(map);
    followView(map, layer, "/api/v1/grid/components.geojson", function (into, data) {
      data.features.forEach(function (feature) {
        var p = feature.properties;
        var c = feature.geometry.coordinates;
        var marker = L.circleMarker([c[1], c[0]], { radius: 4, className: "wg-component st-" + p.state });
        var box = el("div", "wg-popup");
        box.appendChild(el("strong", null, "部件 " + p.name));
        row(box, "编码", feature.id);
        row(box, "状态", p.state_label);
        row(box, "主管部门", p.owner);
        row(box, "养护单位", p.maintainer);
        marker.on("click", function (event) { L.popup(POPUP).setLatLng(event.latlng).setContent(box).openOn(map); });
        into.addLayer(marker);
      });
    }, onCount);
    return layer;
  }

  // The standard addresses (标准地址) in view, from the same zoom, while their box is ticked: staff who
  // read the registries see the address registry's points (the page offers the box to them only).
  function addressLayer(map, toggle, onCount) {
    var layer = L.layerGroup().addTo(map);
    var refresh = followView(map, layer, "/api/v1/grid/addresses.geojson", function (into, data) {
      data.features.forEach(function (feature) {
        var p = feature.properties;
        var c = feature.geometry.coordinates;
        var marker = L.circleMarker([c[1], c[0]], { radius: 3, className: "wg-address" });
        var box = el("div", "wg-popup");
        box.appendChild(el("strong", null, p.full_address));
        row(box, "地址编码", p.address_code);
        row(box, "居村委会", p.community_name);
        marker.on("click", function (event) { L.popup(POPUP).setLatLng(event.latlng).setContent(box).openOn(map); });
        into.addLayer(marker);
      });
    }, onCount, function () { return toggle.checked; });
    toggle.addEventListener("change", refresh);
    return layer;
  }

  function caseClass(p) {
    return "wg-case st-" + p.status + (p.late ? " late" : "") + (p.urgent ? " urgent" : "");
  }

  /* ---- the map page ---------------------------------------------------------------------- */

  function mapPage(element) {
    var made = baseMap(element, {});
    var map = made.map;
    var status = document.getElementById("map-status");
    var filters = document.getElementById("map-filters");
    var cellsShown = null;
    var componentsShown = null;
    var addressesShown = null;
    var casesShown = 0;
    function say() {
      var text = "地图上显示 " + casesShown + " 件案件";
      text += cellsShown === null ? "；放大后显示单元网格和部件" : "；当前范围内单元网格 " + cellsShown + " 个";
      if (componentsShown !== null) { text += "、部件 " + componentsShown + " 个"; }
      if (addressesShown !== null) { text += "、标准地址 " + addressesShown + " 个"; }
      status.textContent = text;
    }
    cellLayer(map, { popups: true, onCount: function (n) { cellsShown = n; say(); } });
    componentLayer(map, function (n) { componentsShown = n; say(); });
    var addressToggle = document.getElementById("map-addresses");
    if (addressToggle) { addressLayer(map, addressToggle, function (n) { addressesShown = n; say(); }); }
    var cases = L.layerGroup().addTo(map);
    var pending = null;
    function load() {
      var data = new FormData(filters);
      var query = data.getAll("status").map(function (s) { return "status=" + encodeURIComponent(s); });
      var kind = data.get("kind");
      var lateOnly = data.get("late") === "1";
      if (pending) { pending.abort(); }
      pending = new AbortController();
      if (query.length === 0) {
        cases.clearLayers();
        casesShown = 0;
        say();
        return;
      }
      getJSON("/api/v1/grid/cases.geojson?" + query.join("&"), pending.signal).then(function (collection) {
        cases.clearLayers();
        casesShown = 0;
        collection.features.forEach(function (feature) {
          var p = feature.properties;
          if ((kind && p.kind !== kind) || (lateOnly && !p.late)) { return; }
          var c = feature.geometry.coordinates;
          var marker = L.circleMarker([c[1], c[0]], { radius: 8, className: caseClass(p) });
          var box = el("div", "wg-popup");
          var title = el("strong");
          var link = el("a", null, p.number);
          link.href = "/grid/cases/" + encodeURIComponent(p.number);
          title.appendChild(link);
          box.appendChild(title);
          row(box, "分类", p.category);
          row(box, "状态", p.status_label);
          if (p.expected) { row(box, "处置期限", p.expected); }
          if (p.late) { box.appendChild(el("div", "wg-popup-late", "已超时")); }
          if (p.urgent) { box.appendChild(el("div", "wg-popup-late", "紧急")); }
          marker.bindPopup(box, POPUP);
          marker.on("add", function () {
            var path = marker.getElement();
            if (path) {
              path.setAttribute("data-number", p.number);
              path.setAttribute("data-status", p.status);
              path.setAttribute("data-kind", p.kind);
            }
          });
          marker.addTo(cases);
          casesShown += 1;
        });
        say();
      }).catch(function (error) {
        if (error.name !== "AbortError") { status.textContent = "案件加载失败，请刷新页面重试"; }
      });
    }
    filters.addEventListener("change", load);
    filters.addEventListener("submit", function (event) { event.preventDefault(); load(); });
    made.drawn.then(load);
  }

  /* ---- the case page ---------------------------------------------------------------------- */

  function casePage(element) {
    var lon = parseFloat(element.dataset.lon), lat = parseFloat(element.dataset.lat);
    var made = baseMap(element, { center: [lat, lon], zoom: 17, labels: false, scrollWheelZoom: false });
    cellLayer(made.map, { highlight: element.dataset.cell || null });
    L.circleMarker([lat, lon], { radius: 9, className: "wg-case st-" + element.dataset.status, interactive: false }).addTo(made.map);
  }

  /* ---- the report page ---------------------------------------------------------------------- */

  var onCategory = function () {}; // the report map's cell lookup, once the map is there

  function reportCategories() {
    var major = document.getElementById("major");
    var category = document.getElementById("category");
    function showCondition() {
      var option = category.selectedOptions[0];
      var chosen = option && option.value;
      document.getElementById("condition-empty").hidden = !!chosen;
      document.getElementById("condition-facts").hidden = !chosen;
      if (chosen) {
        document.getElementById("condition-text").textContent = option.dataset.condition;
        document.getElementById("condition-limit").textContent = option.dataset.limit;
      }
    }
    function filterSubclasses() {
      var key = major.value;
      Array.prototype.forEach.call(category.querySelectorAll("optgroup"), function (group) {
        group.hidden = !!key && group.dataset.major !== key;
      });
      var option = category.selectedOptions[0];
      if (key && option && option.value && option.dataset.major !== key) { category.value = ""; }
      showCondition();
    }
    var preset = category.selectedOptions[0];
    if (preset && preset.value) { major.value = preset.dataset.major; }
    major.addEventListener("change", filterSubclasses);
    category.addEventListener("change", function () { showCondition(); onCategory(); });
    filterSubclasses();
  }

  function reportPage(element) {
    var form = document.getElementById("report-form");
    var category = document.getElementById("category");
    var lonInput = document.getElementById("lon"), latInput = document.getElementById("lat");
    var text = document.getElementById("position-text");

    var made = baseMap(element, { labels: true, placed: function () { return marker !== null; } });
    var map = made.map;
    // The portal's 随手拍 (data-lookup="off") shows no cells and asks no department: staff data.
    var lookup = element.dataset.lookup !== "off";
    if (lookup) { cellLayer(map, {}); }
    var marker = null;
    onCategory = function () { locate(); };

    function locate() {
      if (!lookup) { return; }
      var lon = parseFloat(lonInput.value), lat = parseFloat(latInput.value);
      var cell = document.getElementById("cell-text");
      if (!cell) {
        cell = el("p", "muted");
        cell.id = "cell-text";
        text.insertAdjacentElement("afterend", cell);
      }
      if (isNaN(lon) || isNaN(lat)) { cell.textContent = ""; return; }
      var query = "lon=" + lon + "&lat=" + lat;
      var parts = category.value.split("/");
      if (parts.length === 2) { query += "&kind=" + parts[0] + "&code=" + parts[1]; }
      getJSON("/api/v1/grid/locate?" + query).then(function (found) {
        if (!found.inside_grid) {
          cell.textContent = "该位置不在本区任何单元网格内，将由指挥中心确定责任部门。";
          return;
        }
        var line = "所在单元网格 " + found.cell;
        if (found.proposed_department_name) { line += "，建议处置部门：" + found.proposed_department_name; }
        cell.textContent = line;
      }).catch(function () { cell.textContent = ""; });
    }

    function place(lat, lon, how, zoom) {
      lonInput.value = lon.toFixed(7);
      latInput.value = lat.toFixed(7);
      if (marker) { marker.setLatLng([lat, lon]); } else {
        marker = L.marker([lat, lon], { draggable: true, title: "问题位置", alt: "问题位置", keyboard: false }).addTo(map);
        marker.on("dragend", function () {
          var at = marker.getLatLng();
          place(at.lat, at.lng, "拖动标记");
        });
      }
      if (zoom) { map.setView([lat, lon], Math.max(map.getZoom(), zoom)); }
      text.textContent = "已选位置（" + how + "）：东经 " + lon.toFixed(6) + "，北纬 " + lat.toFixed(6);
      text.classList.remove("wg-position-error");
      locate();
    }

    map.on("click", function (event) { place(event.latlng.lat, event.latlng.lng, "地图点选"); });
    function typed() {
      var lon = parseFloat(lonInput.value), lat = parseFloat(latInput.value);
      if (!isNaN(lon) && !isNaN(lat)) { place(lat, lon, "手动输入", 17); }
    }
    lonInput.addEventListener("change", typed);
    latInput.addEventListener("change", typed);
    if (lonInput.value && latInput.value) { typed(); } // the form sent back with its refusal

    function fallback(message) {
      text.textContent = message + "请在地图上点选问题所在处，或展开「手动输入坐标」。";
      text.classList.add("wg-position-error");
    }
    var button = document.getElementById("locate-me");
    button.addEventListener("click", function () {
      if (!("geolocation" in navigator) || !window.isSecureContext) {
        fallback("此浏览器不能获取当前位置（需要 HTTPS 和定位权限）。");
        return;
      }
      text.textContent = "正在获取当前位置……";
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(function (position) {
        button.disabled = false;
        var accuracy = Math.round(position.coords.accuracy || 0);
        place(position.coords.latitude, position.coords.longitude, "设备定位" + (accuracy ? "，精度约 " + accuracy + " 米" : ""), 17);
      }, function (error) {
        button.disabled = false;
        var reasons = { 1: "未获允许使用定位。", 2: "暂时无法确定位置（没有卫星或网络信号）。", 3: "定位超时。" };
        fallback("无法获取当前位置：" + (reasons[error.code] || "定位失败。"));
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
    });

    form.addEventListener("submit", function (event) {
      if (!lonInput.value || !latInput.value) {
        event.preventDefault();
        fallback("还没有确定问题位置。");
        text.scrollIntoView({ block: "center" });
      }
    });
  }

  function start() {
    var found;
    if (document.getElementById("report-form")) { reportCategories(); }
    if (typeof L === "undefined") { return; } // Leaflet missing: the forms still work, without maps
    if ((found = document.getElementById("grid-map"))) { mapPage(found); }
    if ((found = document.getElementById("case-map"))) { casePage(found); }
    if ((found = document.getElementById("report-map"))) { reportPage(found); }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());

/* 12345 来电受理: while the agent types, the proposed departments and categories (choose when the
 * confidence is low), the matching service items and their FAQ answers, the caller's earlier
 * tickets and the open tickets at the same place. Every call is debounced; every node is built
 * from DOM nodes, never from HTML strings (the CSP allows no inline script or style).
 */
(function () {
  "use strict";

  var form = document.getElementById("call-form");
  if (!form) { return; }
  var csrf = form.getAttribute("data-csrf");
  var PHONE = /^\+?[0-9][0-9-]{4,19}$/;
  var said = document.getElementById("said");
  var phone = document.getElementById("caller_phone");
  var lon = document.getElementById("lon");
  var lat = document.getElementById("lat");
  var category = document.getElementById("category");
  var department = document.getElementById("department_code");
  var timers = {};
  var asked = {};

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf }
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    });
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { items: [] }; });
  }

  function later(key, wait, work) {
    clearTimeout(timers[key]);
    timers[key] = setTimeout(work, wait);
  }

  function replace(id, nodes) {
    var box = document.getElementById(id);
    while (box.firstChild) { box.removeChild(box.firstChild); }
    nodes.forEach(function (node) { box.appendChild(node); });
  }

  function choose(proposal) {
    category.value = proposal.category;
    department.value = proposal.department;
    var note = document.getElementById("proposal-chosen");
    if (note) { note.textContent = "已选择：" + proposal.department_name + " · " + proposal.category_name; }
  }

  function showProposals(found) {
    var nodes = [];
    var shown = document.getElementById("proposed_category");
    if (shown) { shown.value = found.proposals.length ? found.proposals[0].category : ""; }  // a different choice is a correction
    if (!found.proposals.length) { replace("proposals", [el("p", "muted", "暂无建议，请坐席选择分类。")]); return; }
    nodes.push(el("p", found.must_choose ? "flash warning" : "muted",
                  found.must_choose ? "建议的置信度较低，请坐席确认后选择。" : "系统建议（点选即采用）："));
    var list = el("ul", "rx-proposals");
    found.proposals.forEach(function (p, index) {
      var item = el("li");
      var button = el("button", "button small secondary proposal");
      button.type = "button";
      button.setAttribute("data-department", p.department);
      button.appendChild(el("span", null, p.department_name + " · " + p.category_name));
      button.appendChild(el("span", "confidence", "（置信度 " + Math.round(p.confidence * 100) + "%" +
                                                    (p.transfer_line ? "，可转 " + p.transfer_line : "") + "）"));
      button.addEventListener("click", function () { choose(p); });
      item.appendChild(button);
      list.appendChild(item);
      if (index === 0 && !found.must_choose && !category.value) { choose(p); }
    });
    nodes.push(list);
    nodes.push(el("p", "muted", ""));
    nodes[nodes.length - 1].id = "proposal-chosen";
    replace("proposals", nodes);
    if (category.value) {
      var chosen = found.proposals.filter(function (p) { return p.category === category.value; })[0];
      if (chosen) { document.getElementById("proposal-chosen").textContent = "已选择：" + chosen.department_name + " · " + chosen.category_name; }
    }
  }

  function ticketList(tickets, empty, merge) {
    if (!tickets.length) { return [el("p", "muted", empty)]; }
    var list = el("ul", "rx-list");
    tickets.forEach(function (t) {
      var item = el("li");
      var link = el("a", null, t.number);
      link.href = "/hotline/tickets/" + t.number;
      item.appendChild(link);
      item.appendChild(el("span", null, " " + t.category_name + " · " + t.status_label + " · " + t.created_text));
      item.appendChild(el("div", "muted", t.summary));
      if (merge && ["registered", "dispatched", "handled"].indexOf(t.status) >= 0) {
        var button = el("button", "button small secondary", "合并到此工单");
        button.type = "button";
        button.addEventListener("click", function () { document.getElementById("merge_into").value = t.number; });
        item.appendChild(button);
      }
      list.appendChild(item);
    });
    return [list];
  }

  function showKnowledge(items) {
    if (!items.length) { replace("knowledge", [el("p", "muted", "没有匹配的办事事项。")]); return; }
    var list = el("ul", "rx-list");
    items.slice(0, 3).forEach(function (hit) {
      var item = el("li");
      var link = el("a", null, hit.name);
      link.href = "/services/" + hit.code;
      link.target = "_blank";
      item.appendChild(link);
      item.appendChild(el("span", "muted", " " + hit.department_name));
      var answers = el("ul", "rx-list");
      item.appendChild(answers);
      list.appendChild(item);
      getJSON("/api/v1/items/published/" + encodeURIComponent(hit.code) + "/faq").then(function (faq) {
        (faq.items || []).slice(0, 2).forEach(function (f) {
          var answer = el("li");
          answer.appendChild(el("strong", null, f.question));
          answer.appendChild(el("div", null, f.answer));
          var use = el("button", "button small secondary", "用此答复");
          use.type = "button";
          use.addEventListener("click", function () {
            document.getElementById("knowledge_text").value = f.answer;
            document.getElementById("knowledge_ref").value = hit.code + "/FAQ-" + f.id;
          });
          answer.appendChild(use);
          answers.appendChild(answer);
        });
      });
    });
    replace("knowledge", [list]);
  }

  function context() {
    var body = { text: said.value.slice(0, 2000) };
    if (PHONE.test(phone.value.trim())) { body.caller_phone = phone.value.trim(); }
    var x = parseFloat(lon.value), y = parseFloat(lat.value);
    if (isFinite(x) && isFinite(y) && Math.abs(x) <= 180 && Math.abs(y) <= 90) { body.lon = x; body.lat = y; }
    var key = JSON.stringify(body);
    if (asked.context === key) { return; }
    asked.context = key;
    post("/api/v1/hotline/tickets/context", body).then(function (found) {
      replace("earlier", body.caller_phone ? ticketList(found.earlier, "该号码没有历史工单。", true) : [el("p", "muted", "输入来电号码后显示。")]);
      replace("nearby", body.lon !== undefined ? ticketList(found.nearby, "附近没有未办结工单。", true) : [el("p", "muted", "填写经纬度后显示。")]);
      if (body.text.trim().length >= 2) { showKnowledge(found.items); }
    }).catch(function () { asked.context = null; });
  }

  function propose() {
    var text = said.value.trim();
    if (!text || asked.proposals === text) { return; }
    asked.proposals = text;
    post("/api/v1/hotline/proposals", { text: text.slice(0, 2000) }).then(showProposals)
      .catch(function () { asked.proposals = null; replace("proposals", [el("p", "muted", "暂时无法获取建议，请坐席选择分类。")]); });
  }

  var lookup = document.getElementById("caller-lookup");
  lookup.addEventListener("click", function () {
    var out = document.getElementById("caller-found");
    var body = { id_number: document.getElementById("caller_id_number").value.trim(),
                 purpose: document.getElementById("caller-purpose").value.trim() };
    if (body.purpose.length < 2) { out.textContent = "请先说明查询用途（记入审计日志）。"; return; }
    out.textContent = "查询中…";
    post("/api/v1/hotline/tickets/caller", body).then(function (found) {
      out.textContent = found.found ? "人口库：" + (found.name || "") + (found.residence_status ? "，" + found.residence_status : "") +
        (found.residence_address ? "，" + found.residence_address : "") + (found.masked ? "（已脱敏）" : "") : "人口库中没有此身份证号。";
    }).catch(function () { out.textContent = "身份证号有误或无权查询。"; });
  });

  said.addEventListener("input", function () { later("propose", 300, propose); later("context", 500, context); });
  [phone, lon, lat].forEach(function (input) { input.addEventListener("input", function () { later("context", 500, context); }); });
  if (said.value.trim()) { propose(); context(); }
}());

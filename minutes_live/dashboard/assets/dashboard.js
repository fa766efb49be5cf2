// Minutes Live dashboard: sort and filter the projections, open a player's p50 explanation, pin / unpin.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("ml-data").textContent);
  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) { n.className = cls; }
    if (text !== undefined) { n.textContent = text; }
    return n;
  }
  function fmt(v, d) { return v === null || v === undefined ? "-" : Number(v).toFixed(d); }
  function signed(v) { return (v >= 0 ? "+" : "") + v.toFixed(2); }
  function say(text, isError) {
    var s = $("#action-status");
    if (s) { s.textContent = text; s.className = isError ? "err" : ""; }
  }

  var picker = $("#date-picker");
  if (picker) { picker.addEventListener("change", function () { window.location.href = picker.value; }); }

  var table = $("#projections");
  if (table) {
    var tbody = table.tBodies[0];
    var filter = $("#team-filter");
    var count = $("#row-count");
    var closeAll = function () {
      $$("tr.explain", tbody).forEach(function (r) { r.parentNode.removeChild(r); });
      $$("tr.open", tbody).forEach(function (r) { r.classList.remove("open"); });
    };
    var slateFilter = $("#slate-filter");
    var applyFilter = function () {
      var team = filter.value, shown = 0;
      var option = slateFilter && slateFilter.value ? slateFilter.options[slateFilter.selectedIndex] : null;
      var games = option ? option.dataset.games : null;  // " id id ... "
      closeAll();
      $$("tr.player", tbody).forEach(function (tr) {
        tr.hidden = (!!team && tr.dataset.team !== team) ||
          (games !== null && games.indexOf(" " + tr.dataset.game + " ") < 0);
        if (!tr.hidden) { shown += 1; }
      });
      count.textContent = shown + " players";
    };
    filter.addEventListener("change", applyFilter);
    if (slateFilter) { slateFilter.addEventListener("change", applyFilter); }
    applyFilter();

    $$("th[data-sort]", table).forEach(function (th) {
      th.addEventListener("click", function () {
        var num = th.dataset.sort === "num";
        var dir = th.dataset.dir === (num ? "desc" : "asc") ? (num ? "asc" : "desc") : (num ? "desc" : "asc");
        $$("th", table).forEach(function (h) { delete h.dataset.dir; h.removeAttribute("aria-sort"); });
        th.dataset.dir = dir;
        th.setAttribute("aria-sort", dir === "asc" ? "ascending" : "descending");
        closeAll();
        var col = th.cellIndex;
        var key = function (tr) {
          var c = tr.cells[col];
          if (!num) { return c.textContent.trim().toLowerCase(); }
          var v = parseFloat(c.dataset.v);
          return isNaN(v) ? -Infinity : v;
        };
        var rows = $$("tr.player", tbody);
        rows.sort(function (a, b) {
          var ka = key(a), kb = key(b);
          var c = ka < kb ? -1 : (ka > kb ? 1 : 0);
          return dir === "asc" ? c : -c;
        });
        rows.forEach(function (r) { tbody.appendChild(r); });
      });
    });

    var renderExplanation = function (cell, tr, x) {
      cell.textContent = "";
      if (!x || x.error) {
        cell.appendChild(el("p", "note", "No explanation: " + ((x && x.error) || "not computed for this player")));
        return;
      }
      var p50 = parseFloat(tr.querySelector("td.p50").dataset.v), play = parseFloat(tr.querySelector("td.play").dataset.v);
      cell.appendChild(el("p", "", "Why p50: top feature contributions (LightGBM pred_contrib of bundle " +
        x.bundle_id + "'s q50 model). Base " + x.base.toFixed(2) + " + contributions = conditional median " +
        x.conditional_p50.toFixed(2) + " min if he plays; published p50 " + fmt(p50, 1) + " after play probability " +
        fmt(play, 2) + " and the team reconciliation (Minutes V1.2: every number is read from one distribution)."));
      var list = el("div", "contribs");
      var scale = 0;
      x.top.forEach(function (c) { scale = Math.max(scale, Math.abs(c.contribution)); });
      scale = Math.max(scale, Math.abs(x.other), 0.01);
      var rows = x.top.concat([{ feature: "other " + x.other_features + " features", value: null, contribution: x.other }]);
      rows.forEach(function (c) {
        var row = el("div", "contrib");
        row.dataset.feature = c.feature;
        row.appendChild(el("span", "f", c.feature + (c.value === null ? "" : " = " + c.value)));
        var track = el("span", "track");
        track.appendChild(el("span", "axis"));
        var b = el("span", "cb " + (c.contribution >= 0 ? "pos" : "neg"));
        b.style.width = (50 * Math.abs(c.contribution) / scale).toFixed(1) + "%";
        track.appendChild(b);
        row.appendChild(track);
        row.appendChild(el("span", "v", signed(c.contribution)));
        list.appendChild(row);
      });
      cell.appendChild(list);
    };

    // static pages embed every player's explanation compactly: feature names once, rows as arrays
    var staticExplanation = function (key) {
      var x = cfg.explanations, row = x && x.rows[key];
      if (!row) { return x && x.error ? { error: x.error } : null; }
      var top = [];
      for (var i = 0; i < row[3].length; i += 3) {
        top.push({ feature: x.names[row[3][i]], value: row[3][i + 1], contribution: row[3][i + 2] });
      }
      return { bundle_id: x.bundle_id, base: row[0], conditional_p50: row[1], other: row[2],
               other_features: x.other_features, top: top };
    };

    // a game-time decision: his teammates' expected minutes and p50 if he sits against if he plays
    var renderWorlds = function (cell, key) {
      var w = cfg.worlds && cfg.worlds[key];
      if (!w) { return; }
      var box = el("div", "worlds");
      box.appendChild(el("p", "", w.name + " (" + w.status + ") plays with probability " + fmt(w.plays_prob, 2) +
        " (measured status rate): his team if he sits / if he plays (expected minutes, p50)."));
      var t = el("table", "compact worlds-table");
      var head = el("tr");
      ["player", "if he sits: mean", "p50", "if he plays: mean", "p50", "change"].forEach(function (h) {
        head.appendChild(el("th", "", h));
      });
      t.appendChild(head);
      w.rows.forEach(function (r) {
        var tr = el("tr");
        tr.appendChild(el("td", "", r[0]));
        [r[1], r[2], r[3], r[4]].forEach(function (v) { tr.appendChild(el("td", "num", fmt(v, 1))); });
        tr.appendChild(el("td", "num", signed(r[1] - r[3])));
        t.appendChild(tr);
      });
      box.appendChild(t);
      cell.appendChild(box);
    };

    var toggle = function (tr) {
      var next = tr.nextElementSibling;
      if (next && next.classList.contains("explain")) {
        next.parentNode.removeChild(next);
        tr.classList.remove("open");
        return;
      }
      tr.classList.add("open");
      var row = el("tr", "explain");
      row.dataset.key = tr.dataset.key;
      var cell = el("td", "", "loading the explanation...");
      cell.colSpan = tr.cells.length;
      row.appendChild(cell);
      tr.parentNode.insertBefore(row, tr.nextSibling);
      if (cfg.static) {
        renderExplanation(cell, tr, staticExplanation(tr.dataset.key));
        renderWorlds(cell, tr.dataset.key);
        return;
      }
      var url = cfg.explain_url + "?dataset=" + encodeURIComponent(cfg.dataset) + "&date=" + encodeURIComponent(cfg.day) + "&run=" + encodeURIComponent(cfg.run_id) +
        "&key=" + encodeURIComponent(tr.dataset.key);
      fetch(url).then(function (r) { return r.json(); })
        .then(function (x) { renderExplanation(cell, tr, x); renderWorlds(cell, tr.dataset.key); })
        .catch(function (err) { renderExplanation(cell, tr, { error: String(err) }); renderWorlds(cell, tr.dataset.key); });
    };
    tbody.addEventListener("click", function (ev) {
      var tr = ev.target.closest("tr.player");
      if (tr) { toggle(tr); }
    });
    tbody.addEventListener("keydown", function (ev) {
      var tr = ev.target.closest("tr.player");
      if (tr && (ev.key === "Enter" || ev.key === " ")) { ev.preventDefault(); toggle(tr); }
    });
  }

  var post = function (url, body) {
    var headers = { "Content-Type": "application/json" };
    if (cfg.token) { headers["X-Minutes-Live-Token"] = cfg.token; }
    return fetch(url, { method: "POST", headers: headers, body: JSON.stringify(body) })
      .then(function (r) {
        return r.json().then(function (j) {
          if (!r.ok) { throw new Error(j.error || ("HTTP " + r.status)); }
          return j;
        });
      });
  };
  var act = function (what, url, body) {
    if (cfg.static) { return; }
    say(what + "...");
    $$("button.pin, #unpin").forEach(function (b) { b.disabled = true; });
    post(url, body).then(function (j) {
      say(j.message);
      window.location.reload();
    }).catch(function (err) {
      say(what + " failed: " + err.message, true);
      $$("button.pin, #unpin").forEach(function (b) { b.disabled = false; });
    });
  };
  $$("button.pin").forEach(function (b) {
    b.addEventListener("click", function () {
      var reason = $("#pin-reason");
      act("pinning " + b.dataset.run, "/api/pin", { dataset: cfg.dataset, date: cfg.day, run_id: b.dataset.run, reason: reason ? reason.value : "" });
    });
  });
  // live: the date's server-sent events. `latest` moved: the new served run is shown at once (the event names
  // it) and the page reloads (the served run, the run list and the diff all come from the server). A new run
  // folder: reload shortly after (a publish renames the folders first and moves `latest` a moment later; its
  // publication event, if any, comes within that wait). The stream's hello says what `latest` names now: a page
  // rendered before the move (between the folders and the pointer) catches up from it. Alerts are listed.
  if (!cfg.static && cfg.events_url && window.EventSource) {
    var live = $("#live");
    var mark = function (text, on) { if (live) { live.textContent = text; live.className = "live " + (on ? "on" : "off"); } };
    var es = new EventSource(cfg.events_url);
    var reload = function () { es.close(); mark("updating", true); window.location.reload(); };
    var pending = null;
    var served = function (runId) {
      var link = $("#served-run");
      if (link && runId) { link.textContent = runId; }
      // when (wall clock, ms) the page learnt of it, kept across the reload: the browser test reads it
      try { window.sessionStorage.setItem("ml-live-updated", Date.now() + " " + (runId || "")); } catch (e) { /* storage off */ }
      reload();
    };
    es.addEventListener("hello", function (ev) {
      mark("live", true);
      var d = JSON.parse(ev.data);
      var key = "ml-caught-up-" + cfg.day + "-" + d.run_id;
      var seen = null;
      try { seen = window.sessionStorage.getItem(key); } catch (e) { seen = "storage off"; }
      if (d.run_id && d.run_id !== cfg.served_run_id && !seen) {
        try { window.sessionStorage.setItem(key, "1"); } catch (e) { /* storage off */ }
        served(d.run_id);  // once per run: a page that still differs after its reload does not loop
      }
    });
    es.addEventListener("publication", function (ev) { served(JSON.parse(ev.data).run_id); });
    es.addEventListener("run", function () { if (!pending) { pending = window.setTimeout(reload, 500); } });
    es.addEventListener("alert", function (ev) {
      var list = $("#alerts");
      var a = JSON.parse(ev.data);
      if (list) { list.insertBefore(el("li", "alert", (a.kind || "alert") + ": " + (a.message || ev.data)), list.firstChild); }
    });
    es.onerror = function () { mark("reconnecting", false); };
  }

  var unpin = $("#unpin");
  if (unpin) { unpin.addEventListener("click", function () { act("unpinning", "/api/unpin", { dataset: cfg.dataset, date: cfg.day }); }); }
})();

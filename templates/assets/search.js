/* digest search: reads search/index.json (see digest/search.py for its shape), matches
   every query word as a word prefix in title, authors, affiliations, tags and summary,
   filters by topic, contribution, issue and "has code", and keeps the query in the URL.
   No framework, no other host. The matching core is also loadable by Node (benchmarks). */
(function () {
  "use strict";

  var WEIGHTS = { title: 8, authors: 4, tags: 4, affiliations: 2, summary: 1 };
  var SHOWN = 100;

  function fold(text) {
    return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
  }

  function words(text) {
    return fold(text).match(/[\p{L}\p{N}]+/gu) || [];
  }

  function haystack(texts) {
    return " " + words(texts.join(" ")).join(" ");
  }

  /* The index's rows, with folded text ready for matching. */
  function prepare(index) {
    var papers = index.papers.map(function (row, order) {
      return {
        id: row[0], title: row[1], authors: row[2], etAl: row[3] === 1,
        affiliations: row[4], tags: row[5], topics: row[6], contribution: row[7],
        issue: row[8], code: row[9] === 1, line: row[10], order: order,
        hay: {
          title: haystack([row[1]]),
          authors: haystack(row[2]),
          tags: haystack(row[5]),
          affiliations: haystack(row[4]),
          summary: haystack([row[10]]) + " " + row[11]
        }
      };
    });
    var stop = {};
    index.stop_words.forEach(function (word) { stop[word] = true; });
    return {
      topics: index.topics, contributions: index.contributions, issues: index.issues,
      stop: stop, papers: papers
    };
  }

  /* filters: {topic: slug|"", contribution: value|"", issue: date|"", code: bool} */
  function search(prepared, query, filters) {
    var terms = words(query).filter(function (term) { return !prepared.stop[term]; });
    var topic = prepared.topics.findIndex(function (t) { return t[0] === filters.topic; });
    var contribution = prepared.contributions.findIndex(function (c) {
      return c[0] === filters.contribution;
    });
    var issue = prepared.issues.indexOf(filters.issue);
    var found = [];
    prepared.papers.forEach(function (paper) {
      if (filters.topic && paper.topics.indexOf(topic) < 0) return;
      if (filters.contribution && paper.contribution !== contribution) return;
      if (filters.issue && paper.issue !== issue) return;
      if (filters.code && !paper.code) return;
      var score = 0;
      for (var i = 0; i < terms.length; i++) {
        var best = 0;
        for (var field in WEIGHTS) {
          if (WEIGHTS[field] > best && paper.hay[field].indexOf(" " + terms[i]) >= 0) {
            best = WEIGHTS[field];
          }
        }
        if (best === 0) return;
        score += best;
      }
      found.push({ paper: paper, score: score });
    });
    found.sort(function (a, b) { return b.score - a.score || a.paper.order - b.paper.order; });
    return found.map(function (hit) { return hit.paper; });
  }

  var core = { fold: fold, words: words, prepare: prepare, search: search };
  if (typeof module !== "undefined" && module.exports) {
    module.exports = core;
    return;
  }

  /* ---------------------------------------------------------------- the page */

  var form = document.getElementById("search-form");
  if (!form) return;
  var controls = {
    q: form.elements.namedItem("q"),
    topic: form.elements.namedItem("topic"),
    contribution: form.elements.namedItem("contribution"),
    issue: form.elements.namedItem("issue"),
    code: form.elements.namedItem("code")
  };
  var status = document.getElementById("search-status");
  var results = document.getElementById("search-results");
  var root = form.getAttribute("data-root");
  var prepared = null;

  function fromUrl() {
    var params = new URLSearchParams(window.location.search);
    controls.q.value = params.get("q") || "";
    ["topic", "contribution", "issue"].forEach(function (name) {
      var value = params.get(name) || "";
      var select = controls[name];
      select.value = Array.prototype.some.call(select.options, function (o) {
        return o.value === value;
      }) ? value : "";
    });
    controls.code.checked = params.get("code") === "1";
  }

  function state() {
    return {
      q: controls.q.value.trim(), topic: controls.topic.value,
      contribution: controls.contribution.value, issue: controls.issue.value,
      code: controls.code.checked
    };
  }

  function toUrl(current) {
    var params = new URLSearchParams();
    if (current.q) params.set("q", current.q);
    ["topic", "contribution", "issue"].forEach(function (name) {
      if (current[name]) params.set(name, current[name]);
    });
    if (current.code) params.set("code", "1");
    var text = params.toString();
    var url = window.location.pathname + (text ? "?" + text : "");
    if (url !== window.location.pathname + window.location.search) {
      window.history.replaceState(null, "", url);
    }
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function authorLine(paper) {
    var names = paper.authors.slice(0, 3).join(", ");
    if (paper.authors.length > 3 || paper.etAl) names += names ? " et al." : "";
    return names;
  }

  function show(current) {
    results.textContent = "";
    var filtered = current.topic || current.contribution || current.issue || current.code;
    var searchable = words(current.q).filter(function (word) { return !prepared.stop[word]; });
    if (!searchable.length && !filtered) {
      /* Stop words alone ("the", "of") would match every paper: say so instead. */
      status.textContent = current.q.trim()
        ? "“" + current.q.trim() + "” has only words too common to search for; " +
          "try a more specific word."
        : "Type a word or choose a filter to list papers.";
      return;
    }
    var hits = search(prepared, current.q, current);
    hits.slice(0, SHOWN).forEach(function (paper) {
      var item = element("li", "search-result");
      item.setAttribute("data-paper", paper.id);
      var heading = element("h2", "search-result-title");
      var link = element("a", "", paper.title);
      link.href = root + "papers/" + paper.id + "/";
      heading.appendChild(link);
      item.appendChild(heading);
      var meta = [authorLine(paper), prepared.issues[paper.issue]].filter(Boolean).join(" · ");
      item.appendChild(element("p", "search-result-meta", meta));
      if (paper.line) item.appendChild(element("p", "search-result-line", paper.line));
      results.appendChild(item);
    });
    var count = hits.length === 1 ? "1 paper matches." : hits.length + " papers match.";
    if (hits.length > SHOWN) count += " Showing the first " + SHOWN + "; add words to narrow it.";
    status.textContent = count;
  }

  function update() {
    if (!prepared) return;
    var current = state();
    toUrl(current);
    show(current);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    update();
  });
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  window.addEventListener("popstate", function () { fromUrl(); update(); });

  fromUrl();
  status.textContent = "Loading the search index…";
  fetch(form.getAttribute("data-index"))
    .then(function (response) {
      if (!response.ok) throw new Error(response.status + " " + response.statusText);
      return response.json();
    })
    .then(function (index) {
      prepared = prepare(index);
      form.removeAttribute("aria-busy");
      /* What was typed while the index loaded goes into the address too. */
      update();
    })
    .catch(function (problem) {
      status.textContent = "The search index could not be loaded (" + problem.message + ").";
    });
})();

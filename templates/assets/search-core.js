/* digest search, its core: reads the split index under search/ (its format is
   described in digest/search_index.py), loading only the parts a query needs: the head
   (the facets of every paper, the table of term shards), the term shards that hold the
   query's words, and the display rows of the results shown. Every query word must
   match, as a whole word or, from `min_prefix` characters on, as the start of one;
   title and short-name hits rank above tags and topics, above authors and
   affiliations, above the summary. Filters by topic, contribution, issue, year, tag,
   author and "has code" come with counts that follow the query. No framework, no other
   host. It runs in the page (assets/search.js uses it as `window.digestSearch`) and in
   Node, for the tests and the benchmark. */
(function () {
  "use strict";

  var INDEX_VERSION = 3;

  /* ---------------------------------------------------------------- text */

  /* The same table as FOLDS in digest/search.py. */
  var FOLDS = {
    "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th",
    "ı": "i", "ς": "σ", "×": "x"
  };
  var FOLDED = /[ßæœøłđðþıς×]/g;
  var DASHES = /[\u2010-\u2015\u2043\u2212\ufe58\ufe63\uff0d]/g;

  /* ASCII text, nearly all of it, needs only lower case; its words are simpler to find. */
  var ASCII = /^[\x00-\x7f]*$/;

  function fold(text) {
    if (ASCII.test(text)) return text.toLowerCase();
    return text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase()
      .replace(FOLDED, function (c) { return FOLDS[c]; }).replace(DASHES, "-");
  }

  function wordsOf(folded) {
    return folded.match(ASCII.test(folded) ? /[a-z0-9]+/g : /[\p{L}\p{N}]+/gu) || [];
  }

  function words(text) {
    return wordsOf(fold(text));
  }

  /* The text's words, then each hyphenated compound as one word ("trainingfree"). */
  function searchWords(text) {
    var folded = fold(text);
    var list = wordsOf(folded);
    if (folded.indexOf("-") >= 0) {
      (folded.match(/[\p{L}\p{N}]+(?:-[\p{L}\p{N}]+)+/gu) || []).forEach(function (compound) {
        list.push(compound.replace(/-/g, ""));
      });
    }
    return list;
  }

  /* A tag's or an author's key: spellings that differ only in case, accents or
     punctuation are one value (digest.search.value_key). */
  function valueKey(text) {
    return words(text).join(" ");
  }

  /* ---------------------------------------------------------------- matching */

  /* What a query word scores where it is found, four times its weight: the field
     classes of digest.search (names, categories, people, text) weigh 8, 4, 2 and 1,
     and a word found as the start of a longer one counts three quarters of a whole
     one, so a prefix in a heavier field still outranks a whole word in a lighter one. */
  var WHOLE = [32, 16, 8, 4];
  var PREFIX = [24, 12, 6, 3];
  var UNION = "*";
  var TAG = "#";
  var AUTHOR = "@";
  var ROTATION = "|";
  var LAST = "\uffff"; /* after every term that starts with a given text */
  var FACETS = ["topic", "contribution", "issue", "year", "tag", "author", "code"];
  var CODE_FLAG = 16;
  var KEPT_POSTINGS = 64; /* decoded postings kept in memory */

  function isWord(term) {
    return /^[\p{L}\p{N}]/u.test(term) && term.charAt(term.length - 1) !== UNION;
  }

  /* A field's words between spaces, so " " + word finds a word's start. */
  function haystack(text) {
    return " " + searchWords(text).join(" ") + " ";
  }

  function readVarint(bytes, at) {
    var value = 0;
    var shift = 0;
    var byte;
    do {
      byte = bytes[at.pos++];
      value += (byte & 127) * Math.pow(2, shift);
      shift += 7;
    } while (byte & 128);
    return value;
  }

  /* A file's JSON part and what follows it. */
  function split(bytes) {
    var length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
    return {
      json: JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length))),
      rest: bytes.subarray(4 + length)
    };
  }

  /* The index of a site: `load(path, fresh)` resolves to the bytes of the file at
     `path` (relative to the head's folder) once decompressed; `fresh` asks for the
     head, which is never taken from a cache without asking the server. */
  function SearchIndex(bytes, load) {
    var parts = split(bytes);
    var head = parts.json;
    if (head.version !== INDEX_VERSION) {
      throw new Error("the search index is of version " + head.version +
        ", this page reads version " + INDEX_VERSION);
    }
    var count = head.papers;
    this.load = load;
    this.head = head;
    this.count = count;
    this.readFacets(head.facets, parts.rest, head.facet_bytes);
    this.stop = {};
    head.stop_words.forEach(function (word) { this.stop[word] = true; }, this);
    this.short = {};
    head.short_words.forEach(function (word) { this.short[word] = true; }, this);
    this.unionLengths = head.union_lengths;
    this.topics = head.topics.map(function (topic) {
      return {
        slug: topic[0], title: topic[1], description: topic[2],
        titleHay: haystack(topic[1]), descriptionHay: haystack(topic[2])
      };
    });
    this.contributions = head.contributions.map(function (kind) {
      return { value: kind[0], label: kind[1], hay: haystack(kind[1]) };
    });
    this.readIssues(head.issues);
    this.shards = new Map(); /* term shards by number: promises of their terms */
    this.postings = new Map(); /* decoded postings by term */
    this.paperShards = new Map(); /* display rows by shard number: promises */
  }

  /* Issues oldest first (the index's order), each paper's issue and its place when
     listed newest issue first. */
  SearchIndex.prototype.readIssues = function (list) {
    var months = this.head.months;
    var years = [];
    var start = 0;
    var issues = list.map(function (item) {
      var date = item[0];
      var year = date.slice(0, 4);
      if (years.indexOf(year) < 0) years.push(year);
      var issue = {
        date: date, count: item[1], start: start, year: year,
        label: months[Number(date.slice(5, 7)) - 1] + " " + Number(date.slice(8, 10)) + ", " + year
      };
      start += item[1];
      return issue;
    });
    years.sort().reverse();
    var issueOf = new Int32Array(this.count);
    var order = new Int32Array(this.count); /* papers, newest issue first */
    var rank = new Int32Array(this.count); /* each paper's place in `order` */
    var at = 0;
    for (var i = issues.length - 1; i >= 0; i--) {
      var issue = issues[i];
      issue.yearNumber = years.indexOf(issue.year);
      for (var p = issue.start; p < issue.start + issue.count; p++) {
        issueOf[p] = i;
        rank[p] = at;
        order[at++] = p;
      }
    }
    this.issues = issues;
    this.years = years;
    this.issueOf = issueOf;
    this.order = order;
    this.rank = rank;
  };

  /* The distinct facets of papers (topic numbers and flags) and each paper's: what
     the topic, contribution and code filters ask of a paper depends only on these. */
  SearchIndex.prototype.readFacets = function (facets, column, size) {
    var topicCount = this.head.topics.length;
    this.facets = facets.map(function (facet) {
      var topics = new Uint8Array(topicCount);
      facet[0].forEach(function (topic) { topics[topic] = 1; });
      return { topics: topics, topicList: facet[0], flags: facet[1] };
    });
    var facetOf = new Uint32Array(this.count);
    for (var p = 0; p < this.count; p++) {
      var value = 0;
      for (var b = size - 1; b >= 0; b--) value = value * 256 + column[p * size + b];
      facetOf[p] = value;
    }
    this.facetOf = facetOf;
  };

  SearchIndex.prototype.topicsOf = function (paper) {
    return this.facets[this.facetOf[paper]].topicList;
  };

  /* ------------------------------------------------ term shards */

  /* The number of the shard that would hold `term`, or -1 before the first. */
  SearchIndex.prototype.shardOf = function (term) {
    var firsts = this.head.term_shards;
    var low = 0;
    var high = firsts.length;
    while (low < high) {
      var middle = (low + high) >> 1;
      if (firsts[middle] <= term) low = middle + 1; else high = middle;
    }
    return low - 1;
  };

  SearchIndex.prototype.file = function (pattern, number) {
    return this.load(pattern + number + ".bin?v=" + this.head.token, false);
  };

  /* The terms of shard `number`: a Map of term → {bytes, start, end, name}. */
  SearchIndex.prototype.shard = function (number) {
    var found = this.shards.get(number);
    if (!found) {
      found = this.file("terms/", number).then(function (bytes) {
        var parts = split(bytes);
        var terms = new Map();
        var at = 0;
        parts.json.terms.forEach(function (entry, i) {
          var size = parts.json.sizes[i];
          var term = typeof entry === "string" ? entry : entry[0];
          terms.set(term, {
            bytes: parts.rest, start: at, end: at + size,
            name: typeof entry === "string" ? "" : entry[1]
          });
          at += size;
        });
        return terms;
      });
      this.shards.set(number, found);
      /* A failed load is tried again next time. */
      var shards = this.shards;
      found.catch(function () { shards.delete(number); });
    }
    return found;
  };

  /* The shards that may hold terms from `low` to `high`, loaded: a list of their Maps. */
  SearchIndex.prototype.shardsBetween = function (low, high) {
    var first = Math.max(this.shardOf(low), 0);
    var last = this.shardOf(high);
    var loading = [];
    for (var n = first; n <= last; n++) loading.push(this.shard(n));
    return Promise.all(loading);
  };

  /* The entry of `term` ({bytes, start, end, name}), or null. */
  SearchIndex.prototype.entry = function (term) {
    var number = this.shardOf(term);
    if (number < 0) return Promise.resolve(null);
    return this.shard(number).then(function (terms) { return terms.get(term) || null; });
  };

  /* The entries of the terms that start with `prefix` and pass `keep`: [term, entry]. */
  SearchIndex.prototype.entriesFrom = function (prefix, keep) {
    return this.shardsBetween(prefix, prefix + LAST).then(function (maps) {
      var found = [];
      maps.forEach(function (terms) {
        terms.forEach(function (entry, term) {
          if (term.lastIndexOf(prefix, 0) === 0 && keep(term)) found.push([term, entry]);
        });
      });
      return found;
    });
  };

  /* A term's postings: the papers that have it (ascending) and the class it has in each. */
  SearchIndex.prototype.decode = function (term, entry) {
    var found = this.postings.get(term);
    if (found) return found;
    var papers = [];
    var classes = [];
    var bytes = entry.bytes;
    var at = { pos: entry.start };
    var paper = -1;
    while (at.pos < entry.end) {
      var value = bytes[at.pos] < 128 ? bytes[at.pos++] : readVarint(bytes, at);
      paper += Math.floor(value / 4) + 1;
      papers.push(paper);
      classes.push(value & 3);
    }
    found = { papers: Int32Array.from(papers), classes: Uint8Array.from(classes) };
    /* Kept for the next keystrokes, the oldest let go past `KEPT_POSTINGS`: a common
       word of 100,000 papers decodes to half a megabyte. */
    if (this.postings.size >= KEPT_POSTINGS) {
      this.postings.delete(this.postings.keys().next().value);
    }
    this.postings.set(term, found);
    return found;
  };

  /* ------------------------------------------------ a query */

  /* The query's words, without stop words; `common` holds the stop words it had. */
  SearchIndex.prototype.queryTerms = function (query) {
    var terms = [];
    var common = [];
    var stop = this.stop;
    words(query).forEach(function (word) {
      var list = stop[word] ? common : terms;
      if (list.indexOf(word) < 0) list.push(word);
    });
    return { terms: terms, common: common };
  };

  /* 1 when `term` is a whole word of `hay`, 0.75 when it starts one (and is long
     enough to be a prefix), else 0: as a score index, 2, 1 or 0. */
  SearchIndex.prototype.matchIn = function (hay, term) {
    var at = hay.indexOf(" " + term);
    if (at < 0) return 0;
    if (hay.indexOf(" " + term + " ", at) >= 0) return 2;
    return term.length >= this.head.min_prefix ? 1 : 0;
  };

  /* What a word scores through a paper's topics and contributions, by the paper's
     bits: per topic (its title as a category, its description as text) and per
     contribution label (a category). */
  SearchIndex.prototype.labelScores = function (term) {
    var index = this;
    function score(match, kind) {
      return match === 2 ? WHOLE[kind] : match === 1 ? PREFIX[kind] : 0;
    }
    var topics = this.topics.map(function (topic) {
      return Math.max(score(index.matchIn(topic.titleHay, term), 1),
        score(index.matchIn(topic.descriptionHay, term), 3));
    });
    var contributions = this.contributions.map(function (kind) {
      return score(index.matchIn(kind.hay, term), 1);
    });
    var any = topics.concat(contributions).some(function (value) { return value > 0; });
    return { topics: topics, contributions: contributions, any: any };
  };

  /* The postings a word is matched against: the word itself (whole), and from
     `min_prefix` characters the words it starts (their union where the index holds
     one). Resolves to {whole: postings or null, prefixes: [postings]}. */
  SearchIndex.prototype.wordPostings = function (term) {
    var index = this;
    if (term.length < this.head.min_prefix) {
      if (!this.short[term]) return Promise.resolve({ whole: null, prefixes: [] });
      return this.entry(term).then(function (entry) {
        return { whole: entry && index.decode(term, entry), prefixes: [] };
      });
    }
    var union = this.unionLengths.indexOf(term.length) >= 0 ? this.entry(term + UNION) :
      Promise.resolve(null);
    return Promise.all([this.entry(term), union]).then(function (found) {
      var whole = found[0] && index.decode(term, found[0]);
      if (found[1]) {
        return { whole: whole, prefixes: [index.decode(term + UNION, found[1])] };
      }
      return index.entriesFrom(term, isWord).then(function (entries) {
        var prefixes = entries.map(function (pair) { return index.decode(pair[0], pair[1]); });
        return { whole: whole, prefixes: prefixes };
      });
    });
  };

  /* The papers of a tag or an author (`mark` and the value as written), or null when
     the index has no such value. */
  SearchIndex.prototype.valuePostings = function (mark, value) {
    var key = valueKey(value);
    if (!key) return Promise.resolve(null);
    var index = this;
    return this.entry(mark + key).then(function (entry) {
      return entry ? { postings: index.decode(mark + key, entry), name: entry.name } : null;
    });
  };

  /* Each paper's score for one word, four times its weight (0: not found). */
  SearchIndex.prototype.wordScores = function (term, found) {
    var scores = new Uint8Array(this.count);
    function mark(postings, weights) {
      var papers = postings.papers;
      var classes = postings.classes;
      for (var i = 0; i < papers.length; i++) {
        var value = weights[classes[i]];
        if (value > scores[papers[i]]) scores[papers[i]] = value;
      }
    }
    found.prefixes.forEach(function (postings) { mark(postings, PREFIX); });
    if (found.whole) mark(found.whole, WHOLE);
    var labels = this.labelScores(term);
    if (labels.any) {
      /* What the word scores through each distinct facet's topics and contributions. */
      var byFacet = this.facets.map(function (facet) {
        var best = 0;
        facet.topicList.forEach(function (t) { best = Math.max(best, labels.topics[t]); });
        labels.contributions.forEach(function (value, c) {
          if (facet.flags & (1 << c)) best = Math.max(best, value);
        });
        return best;
      });
      var facetOf = this.facetOf;
      for (var p = 0; p < this.count; p++) {
        var label = byFacet[facetOf[p]];
        if (label > scores[p]) scores[p] = label;
      }
    }
    return scores;
  };

  /* What each filter asks for: a topic, contribution, issue or year number, a set of
     papers (tag, author), true (code), or null when it is not set; `unknown` names the
     tag or author filter whose value the index does not hold. */
  SearchIndex.prototype.wanted = function (filters) {
    var index = this;
    function find(list, key, value) {
      for (var i = 0; i < list.length; i++) if (list[i][key] === value) return i;
      return -1;
    }
    var want = {
      topic: filters.topic ? find(this.topics, "slug", filters.topic) : null,
      contribution: filters.contribution
        ? find(this.contributions, "value", filters.contribution) : null,
      issue: filters.issue ? find(this.issues, "date", filters.issue) : null,
      year: filters.year ? this.years.indexOf(filters.year) : null,
      tag: null, author: null,
      code: filters.code ? true : null,
      names: {}, unknown: []
    };
    function members(facet, mark) {
      if (!filters[facet]) return Promise.resolve();
      return index.valuePostings(mark, filters[facet]).then(function (found) {
        if (!found) {
          want.unknown.push(facet);
          return;
        }
        var set = new Uint8Array(index.count);
        found.postings.papers.forEach(function (paper) { set[paper] = 1; });
        want[facet] = set;
        want.names[facet] = found.name;
      });
    }
    return Promise.all([members("tag", TAG), members("author", AUTHOR)]).then(function () {
      return want;
    });
  };

  SearchIndex.prototype.emptyCounts = function () {
    return {
      topic: new Int32Array(this.topics.length),
      contribution: new Int32Array(this.contributions.length),
      issue: new Int32Array(this.issues.length),
      year: new Int32Array(this.years.length),
      code: 0,
      any: { topic: 0, contribution: 0, issue: 0, year: 0, tag: 0, author: 0, code: 0 }
    };
  };

  /* Search: resolves to the papers that match the query and every filter (numbers,
     best first), and each facet's counts: how many papers each value would list, the
     other filters kept. filters: {topic, contribution, issue, year, tag, author: value
     or "", code: bool}. `terms` are the query words searched for, `common` the stop
     words left out (a query of stop words alone lists nothing); `except.tag` and
     `except.author` mark the papers every filter but that one accepts, which the
     filter's suggestions count. */
  SearchIndex.prototype.search = function (query, filters) {
    var index = this;
    var asked = this.queryTerms(query);
    var terms = asked.terms;
    var result = {
      papers: new Int32Array(0), counts: this.emptyCounts(), terms: terms,
      common: asked.common, names: {}, unknown: [],
      except: { tag: new Uint8Array(this.count), author: new Uint8Array(this.count) }
    };
    if (!terms.length && asked.common.length) return Promise.resolve(result);
    var looking = terms.map(function (term) { return index.wordPostings(term); });
    return Promise.all([Promise.all(looking), this.wanted(filters)]).then(function (found) {
      var started = now();
      var total = null;
      terms.forEach(function (term, i) {
        var scores = index.wordScores(term, found[0][i]);
        if (total === null) {
          total = new Uint16Array(scores);
          return;
        }
        for (var p = 0; p < index.count; p++) {
          total[p] = total[p] && scores[p] ? total[p] + scores[p] : 0;
        }
      });
      index.filter(result, total, found[1]);
      result.computeMs = now() - started;
      return result;
    });
  };

  /* The filters and counts of a search, given each paper's score (null: no words).
     Each facet is a bit; what a paper fails is the bits of its distinct facets (topic,
     contribution, code), of its issue (issue, year) and of the tag and author sets. A
     paper that fails nothing is listed and counted in every facet; one that fails one
     facet is counted in that facet only (it would be listed were that filter
     cleared). Counts are summed by distinct facet and by issue, then spread. */
  SearchIndex.prototype.filter = function (result, total, want) {
    var index = this;
    var bit = {};
    FACETS.forEach(function (facet, i) { bit[facet] = 1 << i; });
    var facetMask = this.facets.map(function (facet) {
      return (want.topic !== null && !facet.topics[want.topic] ? bit.topic : 0) |
        (want.contribution !== null && !(facet.flags & (1 << want.contribution)) ?
          bit.contribution : 0) |
        (want.code !== null && !(facet.flags & CODE_FLAG) ? bit.code : 0);
    });
    var issueMask = this.issues.map(function (issue, i) {
      return (want.issue !== null && want.issue !== i ? bit.issue : 0) |
        (want.year !== null && want.year !== issue.yearNumber ? bit.year : 0);
    });
    var facetCount = this.facets.length;
    var byFacet = {}; /* papers counted per distinct facet: listed, or failing only one */
    ["all", "topic", "contribution", "code"].forEach(function (name) {
      byFacet[name] = new Int32Array(facetCount);
    });
    var byIssue = {};
    ["all", "issue", "year"].forEach(function (name) {
      byIssue[name] = new Int32Array(index.issues.length);
    });
    var any = result.counts.any;
    var tags = want.tag;
    var authors = want.author;
    var facetOf = this.facetOf;
    var issueOf = this.issueOf;
    var listed = [];
    for (var p = 0; p < this.count; p++) {
      if (total !== null && total[p] === 0) continue;
      var facet = facetOf[p];
      var issue = issueOf[p];
      var mask = facetMask[facet] | issueMask[issue] |
        (tags !== null && tags[p] === 0 ? bit.tag : 0) |
        (authors !== null && authors[p] === 0 ? bit.author : 0);
      if (mask === 0) {
        byFacet.all[facet]++;
        byIssue.all[issue]++;
        result.except.tag[p] = 1;
        result.except.author[p] = 1;
        listed.push(p);
      } else if ((mask & (mask - 1)) === 0) { /* fails one filter only */
        switch (mask) {
          case bit.topic: byFacet.topic[facet]++; any.topic++; break;
          case bit.contribution: byFacet.contribution[facet]++; any.contribution++; break;
          case bit.code: byFacet.code[facet]++; any.code++; break;
          case bit.issue: byIssue.issue[issue]++; any.issue++; break;
          case bit.year: byIssue.year[issue]++; any.year++; break;
          case bit.tag: result.except.tag[p] = 1; any.tag++; break;
          default: result.except.author[p] = 1; any.author++;
        }
      }
    }
    this.spread(result.counts, byFacet, byIssue, listed.length);
    result.papers = this.ranked(listed, total);
    result.names = want.names;
    result.unknown = want.unknown;
  };

  /* The facets' counts from the sums by distinct facet and by issue. */
  SearchIndex.prototype.spread = function (counts, byFacet, byIssue, listed) {
    var index = this;
    FACETS.forEach(function (facet) { counts.any[facet] += listed; });
    this.facets.forEach(function (facet, f) {
      var topics = byFacet.all[f] + byFacet.topic[f];
      facet.topicList.forEach(function (t) { counts.topic[t] += topics; });
      var kinds = byFacet.all[f] + byFacet.contribution[f];
      for (var c = 0; c < index.contributions.length; c++) {
        if (facet.flags & (1 << c)) counts.contribution[c] += kinds;
      }
      if (facet.flags & CODE_FLAG) counts.code += byFacet.all[f] + byFacet.code[f];
    });
    this.issues.forEach(function (issue, i) {
      counts.issue[i] += byIssue.all[i] + byIssue.issue[i];
      counts.year[issue.yearNumber] += byIssue.all[i] + byIssue.year[i];
    });
  };

  /* `papers` best first: by score, then newest issue first and in the issue's order.
     Scores are small numbers, so this is a counting sort, in time linear in the papers. */
  SearchIndex.prototype.ranked = function (papers, total) {
    var scoreOf = new Int32Array(this.count).fill(-1);
    var top = 0;
    papers.forEach(function (p) {
      var score = total === null ? 0 : total[p];
      scoreOf[p] = score;
      if (score > top) top = score;
    });
    var starts = new Int32Array(top + 2); /* where each score's papers start, best first */
    papers.forEach(function (p) { starts[top - scoreOf[p] + 1]++; });
    for (var s = 1; s < starts.length; s++) starts[s] += starts[s - 1];
    var ranked = new Int32Array(papers.length);
    var order = this.order;
    for (var r = 0; r < order.length; r++) {
      var paper = order[r];
      if (scoreOf[paper] >= 0) ranked[starts[top - scoreOf[paper]]++] = paper;
    }
    return ranked;
  };

  /* ------------------------------------------------ what results show */

  /* The display rows of `papers` (numbers), in that order: {id, title, short, authors,
     etAl, code, line, issue, topics}. */
  SearchIndex.prototype.rows = function (papers) {
    var index = this;
    var size = this.head.paper_shard_size;
    var wanted = [];
    papers.forEach(function (paper) {
      var number = Math.floor(paper / size);
      if (wanted.indexOf(number) < 0) wanted.push(number);
    });
    return Promise.all(wanted.map(function (number) { return index.paperShard(number); }))
      .then(function () {
        return Promise.all(papers.map(function (paper) {
          return index.paperShards.get(Math.floor(paper / size)).then(function (rows) {
            var row = rows[paper % size];
            return {
              number: paper, id: row[0], title: row[1], short: row[2], authors: row[3],
              etAl: row[4] === 1, code: row[5], line: row[6],
              issue: index.issues[index.issueOf[paper]], topics: index.topicsOf(paper)
            };
          });
        }));
      });
  };

  SearchIndex.prototype.paperShard = function (number) {
    var found = this.paperShards.get(number);
    if (!found) {
      found = this.file("papers/", number).then(function (bytes) {
        return JSON.parse(new TextDecoder().decode(bytes));
      });
      this.paperShards.set(number, found);
      var shards = this.paperShards;
      found.catch(function () { shards.delete(number); });
    }
    return found;
  };

  /* The values of a tag or author filter whose words start with the typed text's, with
     how many papers each would list given the query and the other filters
     (`result.except`): resolves to {values: [{name, count}], more: bool}, most papers
     first, at most `limit`. `more` says the text is too short to list every value. */
  SearchIndex.prototype.suggest = function (facet, typed, result, limit) {
    var key = valueKey(typed);
    var none = { values: [], more: false };
    if (key.length < SUGGEST_FROM) return Promise.resolve(none);
    var mark = facet === "tag" ? TAG : AUTHOR;
    var prefix = mark + key;
    var first = Math.max(this.shardOf(prefix), 0);
    if (this.shardOf(prefix + LAST) - first >= SUGGEST_SHARDS) {
      return Promise.resolve({ values: [], more: true });
    }
    var index = this;
    var except = result.except[facet];
    return this.entriesFrom(prefix, function () { return true; }).then(function (entries) {
      var byKey = new Map();
      entries.forEach(function (pair) {
        var term = pair[0];
        var canonical = term.indexOf(ROTATION) >= 0 ? term.slice(term.indexOf(ROTATION) + 1) :
          term.slice(1);
        if (byKey.has(canonical)) return;
        var papers = index.decode(term, pair[1]).papers;
        var count = 0;
        for (var i = 0; i < papers.length; i++) count += except[papers[i]];
        byKey.set(canonical, { name: pair[1].name, count: count });
      });
      var values = Array.from(byKey.values()).filter(function (value) { return value.count > 0; });
      values.sort(function (a, b) { return b.count - a.count || a.name.localeCompare(b.name); });
      return { values: values.slice(0, limit), more: false };
    });
  };

  var SUGGEST_FROM = 1; /* characters typed before a filter suggests values */
  var SUGGEST_SHARDS = 4; /* term shards a filter's suggestions may read */

  function now() {
    return typeof performance !== "undefined" ? performance.now() : Date.now();
  }

  /* Opens the index: resolves to a SearchIndex. */
  function open(load) {
    return load("index.bin", true).then(function (bytes) { return new SearchIndex(bytes, load); });
  }

  /* "Bowen Cui et al." when the list is incomplete or long, else "A, B and C": the
     rule of digest.wording.authors_short. */
  var MAX_LISTED_AUTHORS = 3;

  function authorsShort(authors, etAl) {
    if (!authors.length) return "";
    if (etAl || authors.length > MAX_LISTED_AUTHORS) return authors[0] + " et al.";
    if (authors.length <= 2) return authors.join(" and ");
    return authors.slice(0, -1).join(", ") + " and " + authors[authors.length - 1];
  }

  /* The bytes of a gzip-compressed file, decompressed. */
  function gunzip(body) {
    var stream = new Blob([body]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).arrayBuffer().then(function (buffer) {
      return new Uint8Array(buffer);
    });
  }

  var core = {
    fold: fold, words: words, searchWords: searchWords, valueKey: valueKey, open: open,
    gunzip: gunzip, authorsShort: authorsShort, maxListedAuthors: MAX_LISTED_AUTHORS,
    SearchIndex: SearchIndex
  };
  if (typeof module !== "undefined" && module.exports) {
    module.exports = core; /* Node: the tests and the benchmark */
  } else {
    window.digestSearch = core; /* the page: assets/search.js */
  }
})();

// adminsh --ui: a run's page follows the run through server-sent events (/runs/ID/events):
// its output as it comes, its status, steps and progress. No framework, no build step; text
// goes in as text (textContent), never as HTML.
"use strict";

(function () {
  const section = document.getElementById("run");
  if (!section) return;
  const id = section.dataset.id;
  const endedAtLoad = section.dataset.ended === "yes";
  const output = document.getElementById("output");
  const set = (elementId, text) => {
    const element = document.getElementById(elementId);
    if (element) element.textContent = text;
  };
  const seconds = (s) => {
    if (s === null || s === undefined) return "";
    s = Math.round(s);
    const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, r = s % 60;
    if (h > 0) return h + "h" + String(m).padStart(2, "0") + "m";
    if (m > 0) return m + "m" + String(r).padStart(2, "0") + "s";
    return r + "s";
  };

  function chart(samples) {
    const svg = document.getElementById("chart");
    if (!svg || samples.length < 2) return;
    const rates = [];
    for (let i = 1; i < samples.length; i++) {
      const dt = samples[i][0] - samples[i - 1][0];
      if (dt > 0) rates.push([samples[i][0], (samples[i][1] - samples[i - 1][1]) / dt]);
    }
    if (rates.length === 0) return;
    const t0 = samples[0][0], t1 = samples[samples.length - 1][0];
    const top = Math.max(...rates.map((r) => r[1]), 1);
    const points = rates.map((r) => {
      const x = t1 > t0 ? ((r[0] - t0) / (t1 - t0)) * 400 : 0;
      const y = 78 - (r[1] / top) * 74;
      return x.toFixed(1) + "," + y.toFixed(1);
    });
    const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    line.setAttribute("points", points.join(" "));
    svg.replaceChildren(line);
    svg.setAttribute("data-top", String(Math.round(top)));
  }

  function progress(p) {
    document.getElementById("progress").classList.remove("none");
    document.getElementById("no-progress").classList.add("none");
    set("walk", p.walk);
    set("done", String(p.done));
    set("unit", p.unit);
    set("rate", Math.round(p.rate) + " " + p.unit + "/s");
    const known = p.total !== null && p.total >= p.done && p.total > 0;
    const share = known ? (p.done * 100) / p.total : 0;
    set("share", known ? Math.round(share) + "% of ~" + p.total : "");
    set("left", known && p.walking && p.left !== null ? "about " + seconds(p.left) + " left" : (p.walking ? "" : "walk ended"));
    document.getElementById("bar").style.width = (known ? share : 0) + "%";
    chart(p.samples);
  }

  function steps(list) {
    const ol = document.getElementById("steps");
    ol.replaceChildren(...list.map((s) => {
      const li = document.createElement("li");
      li.className = s.outcome;
      li.textContent = s.name + ": " + s.outcome + (s.seconds !== null ? " (" + s.seconds.toFixed(2) + "s)" : "");
      return li;
    }));
  }

  const events = new EventSource("/runs/" + encodeURIComponent(id) + "/events");
  events.addEventListener("output", (e) => {
    const atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
    output.append(document.createTextNode(e.data + "\n"));
    if (atBottom) window.scrollTo(0, document.body.scrollHeight);
  });
  events.addEventListener("status", (e) => {
    const run = JSON.parse(e.data);
    set("status", run.status);
    set("exit", run.exit);
    set("ended", run.ended);
  });
  events.addEventListener("steps", (e) => steps(JSON.parse(e.data)));
  events.addEventListener("progress", (e) => progress(JSON.parse(e.data)));
  events.addEventListener("end", () => {
    events.close();
    // Ended while watched: the page again, with what can be done now (resume a paused run).
    if (!endedAtLoad) window.setTimeout(() => window.location.reload(), 300);
  });
})();

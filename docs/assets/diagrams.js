// Renders each ```mermaid block of the page (a <div class="diagram"> holding the diagram's
// text) as SVG, with the copy of Mermaid the site serves itself (docs/hooks/mermaid_assets.py).
// Every block ends marked data-diagram="rendered", or "error" with Mermaid's message in
// data-error and shown above the text; <html> then gets data-diagrams="N rendered, M failed".
// scripts/check_docs_diagrams.py reads those marks from each page in headless Chromium.
const READABLE = 0.7;

(async () => {
  const blocks = [...document.querySelectorAll("div.diagram")];
  let failed = 0;
  if (blocks.length > 0) {
    mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "neutral" });
  }
  for (const [index, block] of blocks.entries()) {
    const source = block.textContent;
    try {
      await mermaid.parse(source); // throws on a syntax error, instead of drawing a bomb
      const { svg } = await mermaid.render(`diagram-svg-${index}`, source);
      block.innerHTML = svg;
      block.dataset.diagram = "rendered";
      // Mermaid shrinks a diagram to the page; one that would shrink past reading (below
      // READABLE of its size) is shown at that scale and scrolls sideways instead.
      const drawn = block.querySelector("svg");
      const natural = parseFloat(drawn.style.maxWidth);
      if (natural * READABLE > block.clientWidth) {
        block.classList.add("diagram--wide");
        drawn.setAttribute("width", `${Math.round(natural * READABLE)}px`);
      }
    } catch (error) {
      failed += 1;
      const message = String((error && error.message) || error);
      block.dataset.diagram = "error";
      block.dataset.error = message.split("\n").slice(0, 4).join(" ");
    }
  }
  document.documentElement.dataset.diagrams = `${blocks.length - failed} rendered, ${failed} failed`;
})();

// Run directory → Markdown tables and headless SVG plots. Imports only types from @moprune/core.
export { writeTextAtomic } from './atomic.js';
export { ReportError, type ReportErrorCode } from './errors.js';
export { type LayerCount, layerCounts, runFacts } from './facts.js';
export {
  HTML_ASSETS,
  type HtmlImages,
  type HtmlModel,
  type HtmlOptions,
  renderHtml,
  writeHtmlReport,
} from './html.js';
export { machineDescription, machinesOf } from './machine.js';
export {
  type Align,
  complexityTable,
  type FigureFormat,
  formatCount,
  formatDuration,
  formatNumber,
  formatPercent,
  historyTable,
  layerTable,
  markdownTable,
  type PaperComparison,
  type PaperFigure,
  paperTable,
  summaryRows,
  summaryTable,
} from './markdown.js';
export {
  BAR_MARK_NAME,
  type Bar,
  type BarPlotOptions,
  barPlotSpec,
  bucketMeans,
  FRONTS_MARK_NAMES,
  type FrontPlotOptions,
  type FrontPlotPoint,
  type FrontsPlotOptions,
  frontPlotSpec,
  frontsPlotSpec,
  type LinePlotOptions,
  linePlotSpec,
  MARK_NAMES,
  renderSvg,
  type Series,
  type VegaLiteSpec,
  weightsPlotSpec,
} from './plots.js';
export {
  type ParetoTools,
  type RenderedReport,
  type ReportManifest,
  type ReportOptions,
  type ReportRun,
  renderRunReport,
  renderSweepReport,
  type SweepRun,
  type WrittenReport,
  writeReport,
} from './report.js';
export {
  type EpochLine,
  listRunDirs,
  type ParamCount,
  parseMetricsJsonl,
  type RunData,
  readCheckpointCounts,
  readRun,
  type StepLine,
} from './run.js';

// The explorer's "Data table": the numbers behind the drawn view (Python's `table` trait, made by
// nb_condense.charts.describe) as an HTML table with a caption and column headers, shown by a toggle button. It
// never computes: it lays out, sorts and exports the rows Python sent. All text is set as text, never as HTML.
import { roving } from "./controls.js";
import { h } from "./util.js";

let made = 0; // ids of the tables

/**
 * A cell's text: numbers of a column holding fractions to 3 decimals, others as they are, missing values as an
 * em dash.
 * @param {any} value The cell's value.
 * @param {boolean} decimals Whether its column holds fractions.
 * @returns {string} Its text.
 */
function cellText(value, decimals) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "number") return decimals ? value.toFixed(3) : String(value);
  return String(value);
}

/**
 * Whether each column holds fractions (a number that is not a whole one in some row): shown to 3 decimals.
 * @param {{columns?: string[], rows?: any[][]}} table The `table` trait.
 * @returns {boolean[]} One flag a column.
 */
function fractionColumns(table) {
  const all = table.rows ?? [];
  return (table.columns ?? []).map((_, i) =>
    all.some((row) => typeof row[i] === "number" && !Number.isInteger(row[i])),
  );
}

/**
 * One row of the table said in words: each column's name and value as the table shows it, in the table's order,
 * for the row whose column `key` holds `value` (e.g. the heatmap's "Layer"); "" if there is none.
 * @param {{columns?: string[], rows?: any[][]}} table The `table` trait.
 * @param {string} key A column's name. @param {any} value The value that picks the row.
 * @returns {string} "Mean cosine 0.312, Median cosine 0.305, ...".
 */
export function rowText(table, key, value) {
  const at = (table.columns ?? []).indexOf(key);
  const row = at < 0 ? null : (table.rows ?? []).find((r) => r[at] === value);
  if (!row) return "";
  const decimals = fractionColumns(table);
  return (table.columns ?? [])
    .map((name, i) => (i === at ? "" : `${name} ${cellText(row[i], decimals[i])}`))
    .filter(Boolean)
    .join(", ");
}

/**
 * The table as CSV text (the values as Python sent them; quotes doubled where needed).
 * @param {{columns?: string[], rows?: any[][]}} table The `table` trait.
 * @returns {string} The CSV.
 */
export function tableCsv(table) {
  const quote = (/** @type {any} */ v) => {
    const text = v === null || v === undefined ? "" : String(v);
    return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const lines = [table.columns ?? [], ...(table.rows ?? [])].map((row) => row.map(quote).join(","));
  return `${lines.join("\n")}\n`;
}

/**
 * Compare two cells for sorting: numbers by value, missing values last, the rest as text.
 * @param {any} a One cell. @param {any} b The other.
 * @returns {number} The order.
 */
function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

/**
 * Build the toggle and the table's region; `update(table)` shows new numbers, `isOpen()` says whether it shows.
 * @param {{announce: (text: string) => void}} options What to say when the table is sorted.
 */
export function buildDataTable({ announce }) {
  const id = `nbc-table-${++made}`;
  const caption = h("caption", { id: `${id}-caption` });
  const head = h("tr");
  const body = h("tbody");
  const table = h("table", { className: "nbc-data-table" }, [caption, h("thead", {}, [head]), body]);
  // the region scrolls (long token tables): it takes the keyboard and is named by the caption
  const region = h(
    "div",
    {
      className: "nbc-table-region",
      id,
      role: "region",
      tabindex: "0",
      "aria-labelledby": `${id}-caption`,
      hidden: true,
    },
    [table],
  );
  const toggle = h("button", {
    type: "button",
    className: "nbc-table-toggle",
    "aria-expanded": "false",
    "aria-controls": id,
    title: "Show the numbers behind the chart as a table",
    text: "Data table",
  });
  /** @type {{name?: string, summary?: string, columns?: string[], rows?: any[][]}} */
  let shown = {};
  /** @type {{column: number, ascending: boolean} | null} */
  let sort = null;
  const syncHeaders = roving(head, () => [...head.querySelectorAll("button")]);

  function rows() {
    const all = [...(shown.rows ?? [])];
    if (sort) {
      const { column, ascending } = sort;
      all.sort((a, b) => (ascending ? 1 : -1) * compare(a[column], b[column]));
    }
    return all;
  }

  function drawBody() {
    const all = rows();
    const decimals = fractionColumns(shown);
    body.replaceChildren(
      ...all.map((row) =>
        h(
          "tr",
          {},
          row.map((value, i) => h("td", { text: cellText(value, decimals[i]) })),
        ),
      ),
    );
    [...head.children].forEach((th, i) => {
      if (sort?.column === i) th.setAttribute("aria-sort", sort.ascending ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    });
  }

  function sortBy(column) {
    sort = { column, ascending: sort?.column === column ? !sort.ascending : true };
    drawBody();
    announce(`Sorted by ${shown.columns?.[column]}, ${sort.ascending ? "ascending" : "descending"}.`);
  }

  function update(/** @type {any} */ next) {
    const columns = next?.columns ?? [];
    if (JSON.stringify(columns) !== JSON.stringify(shown.columns ?? [])) sort = null; // another table
    shown = next ?? {};
    caption.textContent = shown.name ? `Data behind the chart: ${shown.name}` : "Data behind the chart";
    head.replaceChildren(
      ...columns.map((name, i) =>
        h("th", { scope: "col" }, [
          h("button", {
            type: "button",
            className: "nbc-sort",
            title: `Sort by ${name}`,
            text: name,
            onclick: () => sortBy(i),
          }),
        ]),
      ),
    );
    syncHeaders();
    drawBody();
    toggle.disabled = columns.length === 0;
    if (toggle.disabled) setOpen(false);
  }

  function setOpen(open) {
    toggle.setAttribute("aria-expanded", String(open));
    region.hidden = !open;
  }
  toggle.addEventListener("click", () => setOpen(region.hidden));

  return { toggle, region, update, isOpen: () => !region.hidden, csv: () => tableCsv(shown) };
}

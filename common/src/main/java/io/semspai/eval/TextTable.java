package io.semspai.eval;

import java.util.ArrayList;
import java.util.List;

/** A plain aligned table for terminals: first column left-aligned, the rest right-aligned, two spaces apart. */
public final class TextTable {
  private final List<String> header;
  private final List<List<String>> rows = new ArrayList<>();

  public TextTable(List<String> header) {
    this.header = List.copyOf(header);
  }

  public TextTable row(List<String> cells) {
    if (cells.size() != header.size()) {
      throw new IllegalArgumentException("row has " + cells.size() + " cells, header " + header.size());
    }
    rows.add(List.copyOf(cells));
    return this;
  }

  public int size() {
    return rows.size();
  }

  public String render() {
    int[] width = new int[header.size()];
    for (int c = 0; c < width.length; c++) {
      width[c] = header.get(c).length();
      for (List<String> r : rows) {
        width[c] = Math.max(width[c], r.get(c).length());
      }
    }
    StringBuilder sb = new StringBuilder();
    line(sb, header, width);
    for (List<String> r : rows) {
      line(sb, r, width);
    }
    return sb.toString();
  }

  private static void line(StringBuilder sb, List<String> cells, int[] width) {
    StringBuilder l = new StringBuilder();
    for (int c = 0; c < cells.size(); c++) {
      String v = cells.get(c);
      if (c > 0) {
        l.append("  ");
      }
      String pad = " ".repeat(width[c] - v.length());
      l.append(c == 0 ? v + pad : pad + v);
    }
    sb.append(l.toString().stripTrailing()).append('\n');
  }
}

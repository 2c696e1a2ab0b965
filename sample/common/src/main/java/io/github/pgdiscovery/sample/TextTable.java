package io.github.pgdiscovery.sample;

import java.util.ArrayList;
import java.util.List;

/** Left-aligned plain-text columns, for member lists an operator reads in a log or a terminal. */
final class TextTable {

  private static final String GAP = "  ";

  private TextTable() {}

  /** One line per row, header first, each starting with {@code indent}; no trailing newline. */
  static String render(String indent, List<String> header, List<List<String>> rows) {
    List<List<String>> lines = new ArrayList<>();
    lines.add(header);
    lines.addAll(rows);
    int[] widths = new int[header.size()];
    for (List<String> line : lines) {
      for (int i = 0; i < widths.length; i++) {
        widths[i] = Math.max(widths[i], line.get(i).length());
      }
    }
    StringBuilder out = new StringBuilder();
    for (List<String> line : lines) {
      if (out.length() > 0) {
        out.append('\n');
      }
      StringBuilder text = new StringBuilder(indent);
      for (int i = 0; i < widths.length; i++) {
        text.append(line.get(i));
        if (i < widths.length - 1) {
          text.append(" ".repeat(widths[i] - line.get(i).length())).append(GAP);
        }
      }
      // Blank last cells would leave trailing spaces.
      out.append(text.toString().stripTrailing());
    }
    return out.toString();
  }
}

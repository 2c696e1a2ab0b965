package io.github.pgdiscovery.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the formation figures that only the node logs have: the sample's STARTED line (wall clock
 * in epoch milliseconds) and Bootstrap's lookups. Log lines start with the local time of day
 * (HH:mm:ss.SSS, the sample's logback pattern), taken on the same machine and clock as the launch.
 */
final class NodeLogReader {

  private static final Pattern STARTED =
      Pattern.compile("STARTED at (\\d+) ms since the epoch(?:.*, (\\d+) ms of CPU)?");
  private static final Pattern TIME = Pattern.compile("^(\\d{2}:\\d{2}:\\d{2}\\.\\d{3}) ");
  private static final String LOOKING_UP = "BootstrapCoordinator - Looking up";
  private static final String LOCATED = "BootstrapCoordinator - Located service members";
  private static final String TARGET = "ResolvedTarget(";
  private static final String FILTERED = "], filtered to";

  private NodeLogReader() {}

  static FormationBenchmark.NodeLogs read(List<FormationNode> nodes, long launchedAtMillis) {
    double lastStarted = Double.NaN;
    double cpuSum = 0;
    int cpuNodes = 0;
    double firstAnswerWait = Double.NaN;
    double allLocated = Double.NaN;
    FormationNode lowest =
        nodes.stream().min(Comparator.comparingInt(FormationNode::remotingPort)).orElseThrow();
    for (FormationNode node : nodes) {
      List<String> lines;
      try {
        lines = Files.readAllLines(node.logFile());
      } catch (IOException | RuntimeException e) {
        // A log that cannot be read leaves its figures unknown; formation itself was measured.
        return FormationBenchmark.NodeLogs.NONE;
      }
      double started = Double.NaN;
      double lookingUp = Double.NaN;
      double located = Double.NaN;
      for (String line : lines) {
        Matcher startedAt = STARTED.matcher(line);
        if (Double.isNaN(started) && startedAt.find()) {
          started = (Long.parseLong(startedAt.group(1)) - launchedAtMillis) / 1000.0;
          if (startedAt.group(2) != null) {
            cpuSum += Long.parseLong(startedAt.group(2)) / 1000.0;
            cpuNodes++;
          }
        } else if (Double.isNaN(lookingUp) && line.contains(LOOKING_UP)) {
          lookingUp = secondsFromLaunch(line, launchedAtMillis);
        } else if (line.contains(LOCATED)) {
          double at = secondsFromLaunch(line, launchedAtMillis);
          if (Double.isNaN(located)) {
            located = at;
          }
          if (node == lowest && Double.isNaN(allLocated) && targets(line) >= nodes.size()) {
            allLocated = at;
          }
        }
      }
      lastStarted = maxKnown(lastStarted, started);
      firstAnswerWait = maxKnown(firstAnswerWait, located - lookingUp);
    }
    return new FormationBenchmark.NodeLogs(
        lastStarted,
        cpuNodes == nodes.size() ? cpuSum / cpuNodes : Double.NaN,
        firstAnswerWait,
        allLocated);
  }

  /** The contact points a "Located service members" line lists before filtering. */
  private static int targets(String line) {
    int end = line.indexOf(FILTERED);
    String listed = end < 0 ? line : line.substring(0, end);
    int count = 0;
    for (int at = listed.indexOf(TARGET); at >= 0; at = listed.indexOf(TARGET, at + 1)) {
      count++;
    }
    return count;
  }

  /** The line's time of day as seconds from the launch; a run may cross midnight. */
  private static double secondsFromLaunch(String line, long launchedAtMillis) {
    Matcher time = TIME.matcher(line);
    if (!time.find()) {
      return Double.NaN;
    }
    try {
      ZoneId zone = ZoneId.systemDefault();
      LocalDate day = Instant.ofEpochMilli(launchedAtMillis).atZone(zone).toLocalDate();
      long at = LocalTime.parse(time.group(1)).atDate(day).atZone(zone).toInstant().toEpochMilli();
      if (at < launchedAtMillis - 12 * 3600_000L) {
        at += 24 * 3600_000L;
      }
      return (at - launchedAtMillis) / 1000.0;
    } catch (DateTimeParseException e) {
      return Double.NaN;
    }
  }

  private static double maxKnown(double a, double b) {
    if (Double.isNaN(a)) {
      return b;
    }
    return Double.isNaN(b) ? a : Math.max(a, b);
  }
}

package io.github.pgdiscovery.bench;

import java.util.Arrays;
import java.util.List;

/** Order statistics of a list of samples (nearest-rank percentiles). */
record Stats(int count, double min, double p50, double p90, double p99, double max) {

  static Stats of(List<Double> samples) {
    double[] sorted = samples.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    if (sorted.length == 0) {
      return new Stats(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }
    return new Stats(
        sorted.length,
        sorted[0],
        rank(sorted, 50),
        rank(sorted, 90),
        rank(sorted, 99),
        sorted[sorted.length - 1]);
  }

  private static double rank(double[] sorted, int percentile) {
    int index = (int) Math.ceil(percentile / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  static String format(double value) {
    if (Double.isNaN(value)) {
      return "n/a";
    }
    return value >= 100 ? String.format("%.0f", value) : String.format("%.1f", value);
  }

  @Override
  public String toString() {
    return Arrays.toString(new double[] {min, p50, p99, max});
  }
}

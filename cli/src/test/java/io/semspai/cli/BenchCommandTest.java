package io.semspai.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class BenchCommandTest {
  @Test
  void tinyBenchPrintsItsTable() {
    CliRun r = CliRun.of("bench", "spai", "--preset", "tiny", "--seconds", "0",
        "--min-images", "1", "--sizes", "224,512,1024", "--gemm-size", "256");
    assertEquals(0, r.exit(), r.err());
    String o = r.out();
    assertTrue(o.contains("machine: " + Runtime.getRuntime().availableProcessors() + " CPUs, "), o);
    assertTrue(o.contains("engine: DJL 0.36.0, PyTorch 2.7.1"), o);
    assertTrue(o.contains("load average at start: "), o);
    assertTrue(o.contains("FLOPs per patch (counted from the config): 0.18 GFLOP = 3 ViT passes × 0.05"), o);
    assertTrue(o.contains("fp32 GEMM 256×256·256×256 (DJL matMul, warmed up): best "), o);
    assertTrue(o.contains("input  crop       patches  encoded  images  s/image  images/s  patches/s  s/patch"
        + "  best s/patch  cpu-s/patch  best GFLOP/s  GEMM GFLOP/s  of GEMM"), o);
    Matcher five = Pattern.compile("\\n224²   five-crop        5        1       1 ").matcher(o);
    assertTrue(five.find(), o);
    assertTrue(Pattern.compile("\\n512²   grid 2×2         4        4       1 ").matcher(o).find(), o);
    assertTrue(Pattern.compile("\\n1024²  grid 4×4        16       16       1 ").matcher(o).find(), o);
    assertTrue(o.contains("upstream anchor (spec §6)"), o);
  }

  @Test
  void badOptionsAreRefused() {
    CliRun r = CliRun.of("bench", "spai", "--preset", "tiny", "--threads", "0");
    CliRun one = CliRun.of("bench", "spai", "--preset", "tiny", "--threads", "1", "--seconds",
        "0", "--min-images", "1", "--sizes", "224", "--gemm-size", "64");
    assertEquals(0, one.exit(), one.err());
    assertTrue(one.out().contains("intra-op threads 1,"), one.out());
    assertEquals(2, r.exit());
    assertEquals("error: --threads must be positive", r.err().strip());
  }
}

package io.semspai.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalSummaryTest {
  static final List<EvalProfile> PROFILES =
      List.of(new EvalProfile("balanced", 0.3, 0.7), new EvalProfile("strict", 0.2, 0.9));

  @TempDir Path dir;

  /** Two real sources, two generators; see the hand computation in each assertion. */
  static EvalSet fourSources() {
    return new EvalSet("paper", "fusion")
        .addScore(0, 0.1, "coco").addScore(0, 0.3, "coco")
        .addScore(0, 0.2, "imagenet").addScore(0, 0.6, "imagenet")
        .addScore(1, 0.7, "sd3").addScore(1, 0.5, "sd3")
        .addScore(1, 0.4, "flux").addScore(1, 0.9, "flux");
  }

  @Test
  void averagesEachGeneratorOverTheRealSourcesAsThePaperDoes() {
    SourceSummary s = EvalSummary.of(fourSources(), PROFILES).sources();
    assertEquals(List.of("coco", "imagenet"), s.realSources());
    assertEquals(List.of("flux", "sd3"), s.rows().stream().map(SourceSummary.Row::aiSource).toList());
    SourceSummary.Row sd3 = s.rows().get(1);
    // sd3+coco: AUC 1, AP 1, Acc 3/4 (0.5 is not > 0.5). sd3+imagenet: AUC 3/4, AP 1/2 + 1/2*2/3, Acc 1/2.
    assertEquals(List.of(1.0, 0.75), sd3.pairs().stream().map(p -> p.auc().value()).toList());
    assertEquals((1.0 + 0.75) / 2, sd3.auc().value(), 1e-15);
    assertEquals((1.0 + 0.5 + 0.5 * 2 / 3.0) / 2, sd3.ap().value(), 1e-15);
    assertEquals((0.75 + 0.5) / 2, sd3.accuracy05().value(), 1e-15);
    assertEquals(2, sd3.pairs().get(0).real());
    assertEquals(2, sd3.ai());
    // flux happens to give the same numbers; the average row averages the generators.
    assertEquals(0.875, s.average().auc().value(), 1e-15);
    assertEquals(0.625, s.average().accuracy05().value(), 1e-15);
    assertEquals(4, s.average().ai());
    String text = s.toText();
    assertTrue(text.contains("per AI source, averaged over real sources [coco, imagenet]"), text);
    assertTrue(text.lines().anyMatch(l -> l.matches("sd3\\s+2\\s+2\\s+0\\.8750\\s+0\\.9167\\s+0\\.6250")), text);
    assertTrue(text.lines().anyMatch(l -> l.matches("average\\s+4\\s+0\\.8750\\s+0\\.9167\\s+0\\.6250")), text);
  }

  @Test
  void summaryFromCsvRowsCountsErrorsByReasonAndBadRows() throws Exception {
    Path csv = dir.resolve("set.csv");
    Files.writeString(csv, "image,class,split\n"
        + "a.png,0,test\nb.png,0,test\nc.png,1,test\nd.png,1,test\ne.png,1,test\nf.png,9,test\ng.png,1,train\n");
    Dataset d = DatasetCsv.read(csv);
    List<DatasetRow> rows = d.rowsOfSplit("test");
    assertEquals(6, rows.size());
    List<RowScore> results = Arrays.asList(RowScore.of(0.2, -1.386), RowScore.of(0.8, 1.386),
        RowScore.of(0.95, 2.944), RowScore.error("DECODE_FAILED"), RowScore.of(0.75, 1.0986), null);
    EvalSummary s = EvalSummary.of(EvalSet.of(d.name(), "spectral", rows, results), PROFILES);
    assertEquals(6, s.images());
    assertEquals(4, s.scored());
    assertEquals(2, s.errors());
    assertEquals(Map.of("BAD_ROW", 1, "DECODE_FAILED", 1), s.errorsByReason());
    assertEquals(2, s.real());
    assertEquals(2, s.ai());
    // Scores: real 0.2, 0.8; AI 0.95, 0.75 -> AUC 3/4; Acc@0.5 3/4; balanced (t_high 0.7): AI for 0.8, 0.95, 0.75.
    assertEquals(0.75, s.auc().value(), 1e-15);
    assertEquals(0.75, s.accuracy05().value(), 1e-15);
    ProfileOutcome balanced = s.profiles().get(0);
    assertEquals(0.75, balanced.accuracy().value(), 1e-15);
    assertEquals(0.0, balanced.uncertainRate().value(), 0);
    assertEquals(0.5, balanced.realFalsePositiveRate().value(), 0);
    ProfileOutcome strict = s.profiles().get(1);
    // strict (0.2, 0.9): AI only 0.95; UNCERTAIN 0.2, 0.8, 0.75.
    assertEquals(0.75, strict.uncertainRate().value(), 1e-15);
    assertEquals(0.75, strict.accuracy().value(), 1e-15);
    assertNull(s.sources());

    String text = s.toText();
    assertTrue(text.startsWith("== set (spectral) ==\nimages 6  scored 4 (real 2, AI 2)  errors 2 (BAD_ROW 1, DECODE_FAILED 1)\n"), text);
    assertTrue(text.contains("AUC 0.7500  AP "), text);
    assertTrue(text.lines().anyMatch(l -> l.matches("strict\\s+0\\.200\\s+0\\.900\\s+0\\.7500\\s+75\\.0%\\s+0\\.0000\\s+0\\.5000")), text);

    JsonNode json = s.toJson();
    assertEquals(0.75, json.get("auc").asDouble(), 0);
    assertEquals(1, json.get("errors_by_reason").get("DECODE_FAILED").asInt());
    assertEquals(0.75, json.get("profiles").get(1).get("uncertain_rate").asDouble(), 1e-15);
    assertEquals("strict", json.get("profiles").get(1).get("name").asText());
  }

  @Test
  void singleClassCsvSaysWhyInsteadOfNaN() {
    EvalSet onlyAi = new EvalSet("fake_mjv61", "fusion").addScore(1, 0.9, null).addScore(1, 0.3, null);
    EvalSummary s = EvalSummary.of(onlyAi, PROFILES);
    assertFalse(s.auc().isDefined());
    assertEquals(0.5, s.accuracy05().value(), 0); // upstream's fakes-only accuracy is still meaningful
    String text = s.toText();
    assertTrue(text.contains("AUC n/a  AP n/a  Acc@0.5 0.5000"), text);
    assertTrue(text.contains("note: AUC needs both classes: the set has no real images (class 0)"), text);
    assertFalse(text.contains("NaN"), text);
    JsonNode json = s.toJson();
    assertTrue(json.get("auc").isNull());
    assertEquals("AUC needs both classes: the set has no real images (class 0)", json.get("auc_undefined").asText());
    assertFalse(json.toString().contains("NaN"));
  }

  @Test
  void multiCsvTableHasOneLinePerCsvAndMode() {
    EvalSummary a = EvalSummary.of(fourSources(), PROFILES);
    EvalSummary b = EvalSummary.of(new EvalSet("other", "spectral").addScore(0, 0.1, null).addScore(1, 0.8, null)
        .addError("TIMEOUT"), PROFILES);
    String table = EvalSummary.table(List.of(a, b));
    List<String> lines = table.lines().toList();
    assertEquals(3, lines.size());
    assertTrue(lines.get(0).matches("csv\\s+mode\\s+images\\s+errors\\s+AUC\\s+AP\\s+Acc@0\\.5\\s+Acc@balanced\\s+UNC@balanced\\s+Acc@strict\\s+UNC@strict"), lines.get(0));
    assertTrue(lines.get(2).matches("other\\s+spectral\\s+3\\s+1\\s+1\\.0000\\s+1\\.0000\\s+1\\.0000\\s+1\\.0000\\s+0\\.0%\\s+0\\.5000\\s+50\\.0%"), lines.get(2));
    assertEquals(2, EvalSummary.toJson(List.of(a, b)).size());
  }

  @Test
  void robustnessTableListsStrengthsPerKindAndMode() {
    RobustnessTable t = new RobustnessTable();
    EvalSet clean = new EvalSet("set", "fusion").addScore(0, 0.1, null).addScore(1, 0.9, null);
    EvalSet hurt = new EvalSet("set", "fusion").addScore(0, 0.6, null).addScore(1, 0.4, null);
    EvalSet cleanSpec = new EvalSet("set", "spectral").addScore(0, 0.2, null).addScore(1, 0.8, null);
    t.addClean(EvalSummary.of(clean, List.of()));
    t.addClean(EvalSummary.of(cleanSpec, List.of()));
    t.add("jpeg", 95, "jpeg=95", EvalSummary.of(clean, List.of()));
    t.add("jpeg", 50, "jpeg=50", EvalSummary.of(hurt, List.of()));
    t.add("jpeg", 50, "jpeg=50", EvalSummary.of(cleanSpec, List.of()));
    t.add("scale", 0.5, "scale=0.5", EvalSummary.of(hurt.addError("TOO_SMALL"), List.of()));
    assertEquals(List.of("fusion", "spectral"), t.modes());
    assertEquals(List.of("jpeg", "scale"), t.kinds());
    assertEquals(2, t.curve("set", "fusion", "jpeg").size());
    String text = t.toText();
    List<String> lines = text.lines().toList();
    assertEquals("robustness: set against jpeg", lines.get(0));
    assertTrue(lines.get(1).matches("jpeg\\s+fusion AUC\\s+fusion AP\\s+fusion Acc@0\\.5\\s+fusion errors\\s+spectral AUC.*"), lines.get(1));
    assertTrue(lines.get(2).matches("clean\\s+1\\.0000\\s+1\\.0000\\s+1\\.0000\\s+0\\s+1\\.0000\\s+1\\.0000\\s+1\\.0000\\s+0"), lines.get(2));
    assertTrue(lines.get(3).matches("95\\s+1\\.0000\\s+1\\.0000\\s+1\\.0000\\s+0"), lines.get(3));
    assertTrue(lines.get(4).matches("50\\s+0\\.0000\\s+0\\.5000\\s+0\\.0000\\s+0\\s+1\\.0000.*"), lines.get(4));
    assertTrue(text.contains("robustness: set against scale"), text);
    JsonNode json = t.toJson();
    assertEquals(6, json.size());
    assertTrue(json.get(0).get("strength").isNull());
    assertEquals("clean", json.get(0).get("kind").asText());
    assertEquals(50.0, json.get(3).get("strength").asDouble(), 0);
    assertEquals(0.0, json.get(3).get("auc").asDouble(), 0);
    assertEquals(1, json.get(5).get("errors").asInt());
  }
}

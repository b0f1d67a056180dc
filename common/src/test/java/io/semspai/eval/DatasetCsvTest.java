package io.semspai.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetCsvTest {
  @TempDir Path dir;

  private Path csv(String name, String content) throws Exception {
    Path p = dir.resolve(name);
    Files.writeString(p, content, StandardCharsets.UTF_8);
    return p;
  }

  @Test
  void readsUpstreamLayoutKeepsExtraColumnsAndResolvesPathsAndUrls() throws Exception {
    Path p = csv("fake_mjv61.csv",
        "\uFEFFimage,class,split,source,note\n"
            + "real/a.png,0,test,coco,\"has, comma\"\n"
            + "https://example.org/x.jpg,1,test,mjv61,\n"
            + "/abs/b.jpg,1,train,mjv61,x\n");
    Dataset d = DatasetCsv.read(p);
    assertEquals("fake_mjv61", d.name());
    assertEquals(List.of("image", "class", "split", "source", "note"), d.header());
    assertTrue(d.hasLabels() && d.hasSplit() && d.hasSource());
    assertEquals(3, d.rows().size());
    DatasetRow a = d.rows().get(0);
    assertEquals(2, a.line());
    assertEquals(new ImageRef.LocalFile(dir.resolve("real/a.png")), a.ref());
    assertEquals(0, a.label());
    assertEquals("coco", a.source());
    assertEquals("has, comma", a.values().get(4));
    assertEquals(new ImageRef.Remote(URI.create("https://example.org/x.jpg")), d.rows().get(1).ref());
    assertEquals(new ImageRef.LocalFile(Path.of("/abs/b.jpg")), d.rows().get(2).ref());
    assertEquals(2, d.rowsOfSplit("test").size());
    assertTrue(d.problems().isEmpty());
    // --csv-root moves relative paths only.
    Dataset rooted = DatasetCsv.read(p, Path.of("/data"));
    assertEquals(new ImageRef.LocalFile(Path.of("/data/real/a.png")), rooted.rows().get(0).ref());
  }

  @Test
  void badRowsAreKeptAndReportedWithTheirLineNumbers() throws Exception {
    Path p = csv("bad.csv",
        "image,class,split\n"
            + "a.png,0,test\n"
            + "\n"
            + ",1,test\n" // line 4: no image
            + "\"multi\nline.png\",2,test\n" // lines 5-6: bad class, reported at its first line
            + "c.png,,test\n" // line 7: no class
            + "ftp://host/d.png,1,test\n" // line 8
            + "e.png,1,test,extra\n" // line 9
            + "f.png,1.0,test"); // line 10, no trailing newline; upstream's int() rejects 1.0 too
    Dataset d = DatasetCsv.read(p);
    assertEquals(7, d.rows().size(), "bad rows are kept, not dropped");
    List<CsvProblem> problems = d.problems();
    assertEquals(List.of(4L, 5L, 7L, 8L, 9L, 10L), problems.stream().map(CsvProblem::line).toList());
    assertTrue(problems.get(0).message().contains("missing 'image'"));
    assertTrue(problems.get(1).message().contains("bad 'class' value '2'"));
    assertTrue(problems.get(2).message().contains("missing 'class'"));
    assertTrue(problems.get(3).message().contains("unsupported URL scheme 'ftp'"));
    assertTrue(problems.get(4).message().contains("4 cells but the header has 3"));
    assertEquals("line 10: bad 'class' value '1.0' (expected 0 for real or 1 for AI)", problems.get(5).toString());
    assertTrue(problems.stream().allMatch(x -> x.reason().equals(CsvProblem.BAD_ROW)));
    assertEquals(1, d.validRows().size());
    assertNull(d.rows().get(1).ref());
  }

  @Test
  void unusableFilesFailWithAClearMessage() throws Exception {
    CsvFormatException e = assertThrows(CsvFormatException.class,
        () -> DatasetCsv.read(csv("x.csv", "path,class\na.png,1\n")));
    assertTrue(e.getMessage().contains("no 'image' column"), e.getMessage());
    assertThrows(CsvFormatException.class, () -> DatasetCsv.read(csv("e.csv", "")));
    assertThrows(CsvFormatException.class, () -> DatasetCsv.read(csv("d.csv", "image,class,class\n")));
    Dataset noLabels = DatasetCsv.read(csv("n.csv", "image\na.png\n"));
    assertFalse(noLabels.hasLabels());
    assertTrue(noLabels.problems().isEmpty());
    CsvFormatException needLabels = assertThrows(CsvFormatException.class, noLabels::requireLabels);
    assertTrue(needLabels.getMessage().contains("no 'class' column"));
  }

  @Test
  void scoredRoundTripKeepsTheInputAndAddsTagColumns() throws Exception {
    String input = "image,class,split,source,note\n"
        + "a.png,0,test,coco,\"quoted, cell\"\n"
        + "b.png,1,test,sd3,\n"
        + "c.png,1,train,sd3,x\n"
        + "d.png,7,test,sd3,\n";
    Dataset d = DatasetCsv.read(csv("in.csv", input));
    List<RowScore> results = Arrays.asList(
        RowScore.of(0.125, -1.9459101090932196), RowScore.error("DECODE_FAILED"), null, null);
    Path out = dir.resolve("out/in.csv");
    DatasetCsv.writeScored(d, out, DatasetCsv.DEFAULT_TAG, results);
    List<String> lines = Files.readAllLines(out);
    assertEquals("image,class,split,source,note,semspai,semspai_logit,semspai_error", lines.get(0));
    assertEquals("a.png,0,test,coco,\"quoted, cell\",0.125,-1.9459101090932196,", lines.get(1));
    assertEquals("b.png,1,test,sd3,,,,DECODE_FAILED", lines.get(2));
    assertEquals("d.png,7,test,sd3,,,,", lines.get(4));

    // Read back: same rows and problems, original cells unchanged, score columns present.
    Dataset back = DatasetCsv.read(out, dir);
    assertEquals(d.rows().size(), back.rows().size());
    for (int i = 0; i < d.rows().size(); i++) {
      assertEquals(d.rows().get(i).values(), back.rows().get(i).values().subList(0, 5));
    }
    assertEquals(d.problems().size(), back.problems().size());
    assertEquals("0.125", back.rows().get(0).values().get(5));

    // Re-scoring the scored CSV overwrites the tag columns in place instead of adding new ones.
    List<RowScore> again = new ArrayList<>(Arrays.asList(RowScore.of(0.5, 0.0), RowScore.of(0.75, 1.0986), null, null));
    Path out2 = dir.resolve("out2.csv");
    DatasetCsv.writeScored(back, out2, "semspai", again);
    List<String> lines2 = Files.readAllLines(out2);
    assertEquals(lines.get(0), lines2.get(0));
    assertEquals("b.png,1,test,sd3,,0.75,1.0986,", lines2.get(2));
  }

  @Test
  void writeWithoutErrorsHasExactlyTwoNewColumnsAndPlainRewriteIsByteIdentical() throws Exception {
    String input = "image,class,split\na.png,0,test\nb b.png,1,test\n";
    Dataset d = DatasetCsv.read(csv("in.csv", input));
    DatasetCsv.writeScored(d, dir.resolve("s.csv"), "spai", List.of(RowScore.of(0.1, -2.2), RowScore.of(0.9, 2.2)));
    assertEquals("image,class,split,spai,spai_logit", Files.readAllLines(dir.resolve("s.csv")).get(0));
    DatasetCsv.write(d, dir.resolve("same.csv"));
    assertEquals(input, Files.readString(dir.resolve("same.csv")));
    assertThrows(IllegalArgumentException.class,
        () -> DatasetCsv.writeScored(d, dir.resolve("x.csv"), "spai", List.of(RowScore.of(0.1, -2.2))));
  }

  @Test
  void listsAFolderSortedWithImageExtensionsOnly() throws Exception {
    Path images = Files.createDirectories(dir.resolve("imgs"));
    for (String n : List.of("b.PNG", "a.jpg", "c.txt", "d.webp", "e.jpeg", ".hidden")) {
      Files.writeString(images.resolve(n), "x");
    }
    Files.createDirectories(images.resolve("sub.png"));
    Dataset d = DatasetCsv.listFolder(images, "test", 1);
    assertEquals("imgs", d.name());
    assertEquals(List.of("image", "class", "split"), d.header());
    assertEquals(List.of("a.jpg", "b.PNG", "d.webp", "e.jpeg"), d.rows().stream().map(DatasetRow::image).toList());
    assertInstanceOf(ImageRef.LocalFile.class, d.rows().get(0).ref());
    assertEquals(images.resolve("a.jpg"), ((ImageRef.LocalFile) d.rows().get(0).ref()).path());
    Path written = dir.resolve("imgs.csv");
    DatasetCsv.write(d, written);
    assertEquals(List.of("image,class,split", "a.jpg,1,test", "b.PNG,1,test", "d.webp,1,test", "e.jpeg,1,test"),
        Files.readAllLines(written));
    Dataset back = DatasetCsv.read(written, images);
    assertEquals(d.rows().get(3).ref(), back.rows().get(3).ref());
    assertEquals(List.of("image", "split"), DatasetCsv.listFolder(images, "test", null).header());
  }
}

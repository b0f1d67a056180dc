package io.semspai.perturb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.semspai.eval.Dataset;
import io.semspai.eval.DatasetCsv;
import io.semspai.eval.DatasetRow;
import io.semspai.image.ImageDecoder;
import io.semspai.image.RgbImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DerivativeWriterTest {
  @TempDir Path dir;

  @Test
  void savesDerivativesAndAnUpstreamCsvThatReadsBack() throws Exception {
    Path data = Files.createDirectories(dir.resolve("data/real"));
    RgbImage a = TestImages.photoLike(40, 30, 1);
    RgbImage b = TestImages.photoLike(40, 30, 2);
    Files.write(data.resolve("a.png"), Pixels.png(a));
    Files.write(data.resolve("b.png"), Pixels.png(b));
    Path csv = dir.resolve("data/set.csv");
    Files.writeString(csv, "image,class,split,source\n"
        + "real/a.png,0,test,coco\n"
        + "https://example.org/img/x.png?size=big,1,test,sd3\n"
        + "real/b.png,1,test,sd3\n"
        + "missing.png,1,test,sd3\n"
        + ",1,test,sd3\n");
    Dataset d = DatasetCsv.read(csv);

    PerturbationPipeline jpeg = PerturbationPipeline.parse("jpeg=60");
    DerivativeWriter w = new DerivativeWriter(dir.resolve("out/jpeg_60"), d, jpeg);
    List<DatasetRow> rows = d.rows();
    // Written out of order (as parallel workers would), rows come back in source order.
    Perturbed pb = jpeg.apply(b, Seeds.forImage(1, rows.get(2).image()));
    Path fb = w.write(rows.get(2), pb);
    Perturbed pa = jpeg.apply(a, Seeds.forImage(1, rows.get(0).image()));
    Path fa = w.write(rows.get(0), pa);
    Path fx = w.write(rows.get(1), jpeg.apply(b, 7));
    w.skip(rows.get(3), "NOT_FOUND");
    Path out = w.finish();

    assertEquals(dir.resolve("out/jpeg_60/real/a.jpg"), fa);
    assertEquals(dir.resolve("out/jpeg_60/real/b.jpg"), fb);
    assertEquals(dir.resolve("out/jpeg_60/remote/3_x.jpg"), fx);
    // The JPEG bytes themselves are stored, so the file decodes to exactly the evaluated pixels.
    assertArrayEquals(pa.jpegBytes(), Files.readAllBytes(fa));
    assertArrayEquals(pa.image().rgb(), ImageDecoder.decode(Files.readAllBytes(fa)).rgb());
    assertEquals(Map.of("NOT_FOUND", 1), w.skipped());
    assertEquals(3, w.writtenCount());

    assertEquals(dir.resolve("out/jpeg_60/set.csv"), out);
    assertEquals(List.of(
        "image,class,split,source,perturbation",
        "real/a.jpg,0,test,coco,jpeg=60",
        "remote/3_x.jpg,1,test,sd3,jpeg=60",
        "real/b.jpg,1,test,sd3,jpeg=60"), Files.readAllLines(out));
    Dataset back = DatasetCsv.read(out);
    assertTrue(back.problems().isEmpty());
    assertEquals(0, back.rows().get(0).label());
    assertTrue(Files.exists(((io.semspai.eval.ImageRef.LocalFile) back.rows().get(2).ref()).path()));
  }

  @Test
  void nonJpegDerivativesArePngAndClashesGetTheLineNumber() throws Exception {
    Path data = Files.createDirectories(dir.resolve("d"));
    RgbImage a = TestImages.photoLike(40, 30, 3);
    Files.write(data.resolve("a.png"), Pixels.png(a));
    Files.write(data.resolve("a.jpg"), Pixels.png(a));
    Path csv = dir.resolve("d/s.csv");
    Files.writeString(csv, "image,class\na.png,0\na.jpg,1\n../../etc/passwd.png,1\n");
    Dataset d = DatasetCsv.read(csv);
    PerturbationPipeline p = PerturbationPipeline.parse("scale=0.5,blur=1");
    DerivativeWriter w = new DerivativeWriter(dir.resolve("o"), d, p);
    Perturbed r = p.apply(a, 1);
    assertEquals(dir.resolve("o/a.png"), w.write(d.rows().get(0), r));
    assertEquals(dir.resolve("o/a_3.png"), w.write(d.rows().get(1), r));
    // An image outside the CSV root never escapes the output folder.
    Path outside = w.write(d.rows().get(2), r);
    assertTrue(outside.normalize().startsWith(dir.resolve("o")), outside.toString());
    RgbImage saved = ImageDecoder.decode(Files.readAllBytes(dir.resolve("o/a.png")));
    assertEquals(20, saved.width());
    assertArrayEquals(r.image().rgb(), saved.rgb());
    assertEquals("a.png,0,\"blur=1,scale=0.5\"", Files.readAllLines(w.finish()).get(1));
  }
}

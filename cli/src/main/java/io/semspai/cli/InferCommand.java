package io.semspai.cli;

import io.semspai.engine.ModelOutput;
import io.semspai.fusion.SemSpaiModel;
import io.semspai.image.ImageDecoder;
import io.semspai.image.RgbImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code semspai infer}: scores every image of a folder and writes one CSV, as upstream's {@code python -m spai
 * infer} does for a directory. Images are read in file-name order; the CSV appears only when every image was
 * scored. {@code <tag>} and {@code <tag>_logit} are the verdict's score: the fusion head's in fusion mode, SPAI's
 * own in spectral mode; fusion mode adds {@code <tag>_spectral}, SPAI's own score, beside it.
 */
@Command(
    name = "infer",
    mixinStandardHelpOptions = true,
    description = "Score every image in a folder and write OUTPUT/<input folder name>.csv with columns image, "
        + "<tag> (sigmoid score; higher = more likely AI-generated), <tag>_logit and, in fusion mode, "
        + "<tag>_spectral (SPAI's own score). <tag> is the fused score in fusion mode, SPAI's in spectral mode.")
public final class InferCommand implements Callable<Integer> {
  static final Set<String> IMAGE_EXTENSIONS = Set.of("png", "jpg", "jpeg", "bmp", "gif", "tif", "tiff", "webp");

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--model", required = true, description = "Bundle directory.")
  Path model;

  @Option(names = "--mode", defaultValue = "fusion",
      description = "fusion (Sem-SPAI: SPAI + ConvNeXt + fusion head; default) or spectral (SPAI alone; needs no "
          + "ConvNeXt weights).")
  String mode;

  @Option(names = "--input", required = true, description = "Folder of images (not searched recursively).")
  Path input;

  @Option(names = "--output", required = true, description = "Folder for the CSV (created if missing).")
  Path output;

  @Option(names = "--tag", defaultValue = "semspai", description = "Score column name (default ${DEFAULT-VALUE}).")
  String tag;

  @Override
  public Integer call() throws IOException {
    SemSpaiModel.Mode m;
    try {
      m = SemSpaiModel.Mode.parse(mode);
    } catch (IllegalArgumentException e) {
      throw new UserError("--mode must be fusion or spectral, got '" + mode + "'");
    }
    if (!tag.matches("[A-Za-z_][A-Za-z0-9_.-]*")) {
      throw new UserError("--tag '" + tag + "' must start with a letter or _ and hold only letters, digits, _ . -");
    }
    if (!Files.isDirectory(input)) {
      throw new UserError("--input " + input + (Files.exists(input) ? " is not a folder" : " does not exist"));
    }
    List<Path> images;
    try (Stream<Path> s = Files.list(input)) {
      images = s.filter(Files::isRegularFile).filter(InferCommand::isImage).sorted().toList();
    }
    if (images.isEmpty()) {
      throw new UserError("--input " + input + " holds no images (" + String.join(", ",
          IMAGE_EXTENSIONS.stream().sorted().toList()) + ")");
    }
    if (Files.exists(output) && !Files.isDirectory(output)) {
      throw new UserError("--output " + output + " exists and is not a folder");
    }
    Path name = input.toAbsolutePath().normalize().getFileName();
    Path csv = output.resolve((name == null ? "images" : name.toString()) + ".csv");

    PrintWriter err = spec.commandLine().getErr();
    boolean fusion = m == SemSpaiModel.Mode.FUSION;
    StringBuilder rows = new StringBuilder();
    rows.append("image,").append(tag).append(',').append(tag).append("_logit");
    rows.append(fusion ? "," + tag + "_spectral\n" : "\n");
    long t0 = System.nanoTime();
    try (SemSpaiModel semspai = Bundles.load(model, m)) {
      int i = 0;
      for (Path image : images) {
        i++;
        RgbImage rgb;
        try {
          rgb = ImageDecoder.decode(Files.readAllBytes(image));
        } catch (IOException | RuntimeException e) {
          throw new UserError("image " + image.getFileName() + ": cannot decode (" + e.getMessage() + "); no CSV "
              + "was written", 1, e);
        }
        ModelOutput r = semspai.score(rgb);
        rows.append(csvField(image.getFileName().toString())).append(',').append(r.score()).append(',')
            .append(r.logit());
        rows.append(fusion ? "," + r.spectralScore() + "\n" : "\n");
        err.printf("[%d/%d] %s %dx%d %d patches score %.4f%s%n", i, images.size(), image.getFileName(),
            rgb.width(), rgb.height(), r.attention().size(), r.score(),
            fusion ? String.format(Locale.ROOT, " (spectral %.4f)", r.spectralScore()) : "");
        err.flush();
      }
    }
    Files.createDirectories(output);
    Path tmp = Files.createTempFile(output, "." + csv.getFileName(), ".partial");
    try {
      try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
        w.write(rows.toString());
      }
      Files.move(tmp, csv, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
    PrintWriter out = spec.commandLine().getOut();
    out.printf("wrote %s: %d images in %.1f s%n", csv, images.size(), (System.nanoTime() - t0) / 1e9);
    out.flush();
    return 0;
  }

  static boolean isImage(Path p) {
    String n = p.getFileName().toString();
    int dot = n.lastIndexOf('.');
    return dot > 0 && IMAGE_EXTENSIONS.contains(n.substring(dot + 1).toLowerCase(Locale.ROOT));
  }

  /** RFC 4180: quote a field holding a comma, quote or line break. */
  static String csvField(String s) {
    if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0) {
      return s;
    }
    return '"' + s.replace("\"", "\"\"") + '"';
  }
}

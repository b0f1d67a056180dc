package io.semspai.eval;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVPrinter;
import org.apache.commons.csv.CSVRecord;

/**
 * Reads and writes CSVs in upstream SPAI's layout. Python's {@code csv} module wrote them (comma, double quotes,
 * quoting only when needed), and RFC 4180 parsing reads them back. A UTF-8 byte-order mark is ignored.
 */
public final class DatasetCsv {
  /** Upstream's default score column is {@code spai}; ours is {@code semspai} so both can sit in one CSV. */
  public static final String DEFAULT_TAG = "semspai";

  /** Extensions a folder listing picks up (case-insensitive). Upstream sniffs magic bytes; names are enough here. */
  public static final Set<String> IMAGE_EXTENSIONS =
      Set.of("jpg", "jpeg", "png", "bmp", "gif", "tif", "tiff", "webp");

  private static final Pattern URL_SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*://.*");
  private static final CSVFormat READ = CSVFormat.DEFAULT.builder().setIgnoreEmptyLines(true).get();
  private static final CSVFormat WRITE = CSVFormat.DEFAULT.builder().setRecordSeparator("\n").get();

  private DatasetCsv() {}

  /** Reads with image paths relative to the CSV's folder, as upstream does without {@code --csv-root}. */
  public static Dataset read(Path csv) {
    Path parent = csv.toAbsolutePath().getParent();
    return read(csv, parent);
  }

  /**
   * Reads a CSV; {@code root} resolves relative image paths (null: the CSV's folder). Rows with a missing image or
   * a class other than 0/1 are kept with a {@link CsvProblem} that names their line.
   *
   * @throws CsvFormatException when the file has no header, no {@code image} column or duplicate column names
   */
  public static Dataset read(Path csv, Path root) {
    Path base = root != null ? root : csv.toAbsolutePath().getParent();
    try (BufferedReader reader = Files.newBufferedReader(csv, StandardCharsets.UTF_8)) {
      reader.mark(1);
      if (reader.read() != '\uFEFF') {
        reader.reset();
      }
      return parse(reader, csv, stem(csv.getFileName().toString()), base);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read CSV " + csv + ": " + e.getMessage(), e);
    }
  }

  private static Dataset parse(BufferedReader reader, Path csv, String name, Path root) throws IOException {
    try (CSVParser parser = READ.parse(reader)) {
      List<String> header = null;
      List<DatasetRow> rows = new ArrayList<>();
      int imageCol = -1;
      int classCol = -1;
      int splitCol = -1;
      int sourceCol = -1;
      for (CSVRecord record : parser) {
        List<String> cells = record.toList();
        long end = parser.getCurrentLineNumber();
        if (header == null) {
          header = new ArrayList<>();
          Set<String> seen = new HashSet<>();
          for (String h : cells) {
            String col = h.trim();
            if (!seen.add(col)) {
              throw new CsvFormatException(csv + ": column '" + col + "' appears twice in the header");
            }
            header.add(col);
          }
          imageCol = header.indexOf(Dataset.IMAGE);
          if (imageCol < 0) {
            throw new CsvFormatException(
                csv + ": no 'image' column in the header " + header + " (upstream layout: image,class,split[,source])");
          }
          classCol = header.indexOf(Dataset.CLASS);
          splitCol = header.indexOf(Dataset.SPLIT);
          sourceCol = header.indexOf(Dataset.SOURCE);
          continue;
        }
        long line = end - embeddedLineBreaks(cells);
        rows.add(row(line, cells, header.size(), imageCol, classCol, splitCol, sourceCol, root));
      }
      if (header == null) {
        throw new CsvFormatException(csv + ": empty file, expected a header with an 'image' column");
      }
      return new Dataset(csv, name, root, header, rows);
    }
  }

  private static DatasetRow row(
      long line, List<String> cells, int width, int imageCol, int classCol, int splitCol, int sourceCol, Path root) {
    List<String> values = new ArrayList<>(cells);
    String problem = null;
    if (values.size() > width) {
      problem = "row has " + values.size() + " cells but the header has " + width;
    }
    while (values.size() < width) {
      values.add("");
    }
    String image = values.get(imageCol).trim();
    String split = splitCol >= 0 ? values.get(splitCol).trim() : null;
    String source = sourceCol >= 0 && !values.get(sourceCol).isBlank() ? values.get(sourceCol).trim() : null;
    Integer label = null;
    ImageRef ref = null;
    if (problem == null && image.isEmpty()) {
      problem = "missing 'image'";
    }
    if (problem == null && classCol >= 0) {
      String c = values.get(classCol).trim();
      if (c.equals("0") || c.equals("1")) {
        label = Integer.parseInt(c);
      } else {
        problem = c.isEmpty()
            ? "missing 'class' (expected 0 for real or 1 for AI)"
            : "bad 'class' value '" + c + "' (expected 0 for real or 1 for AI)";
      }
    }
    if (problem == null) {
      try {
        ref = resolve(image, root);
      } catch (IllegalArgumentException e) {
        problem = e.getMessage();
      }
    }
    CsvProblem p = problem == null ? null : new CsvProblem(line, CsvProblem.BAD_ROW, problem);
    return new DatasetRow(line, List.copyOf(values), image, p == null ? ref : null, p == null ? label : null, split,
        source, p);
  }

  /** A path relative to {@code root} (absolute paths stay), or an http(s) URL kept as a URI for the intake. */
  public static ImageRef resolve(String image, Path root) {
    if (URL_SCHEME.matcher(image).matches()) {
      String scheme = image.substring(0, image.indexOf(':')).toLowerCase(Locale.ROOT);
      if (!scheme.equals("http") && !scheme.equals("https")) {
        throw new IllegalArgumentException("unsupported URL scheme '" + scheme + "' in image '" + image
            + "' (only http and https)");
      }
      try {
        URI uri = new URI(image);
        if (uri.getHost() == null) {
          throw new IllegalArgumentException("image URL '" + image + "' has no host");
        }
        return new ImageRef.Remote(uri);
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException("image URL '" + image + "' is not valid: " + e.getReason());
      }
    }
    try {
      Path p = Path.of(image);
      return new ImageRef.LocalFile(p.isAbsolute() || root == null ? p : root.resolve(p));
    } catch (InvalidPathException e) {
      throw new IllegalArgumentException("image path '" + image + "' is not valid: " + e.getReason());
    }
  }

  // ---------------------------------------------------------------- writing

  /** Writes the dataset as it is (header and cells unchanged). */
  public static void write(Dataset dataset, Path out) {
    List<List<String>> rows = new ArrayList<>();
    for (DatasetRow r : dataset.rows()) {
      rows.add(r.values());
    }
    write(out, dataset.header(), rows);
  }

  /**
   * Writes the input CSV back with the score in column {@code tag} and the logit in {@code tag_logit}, as upstream
   * {@code infer} adds its {@code --tag} column. If any row failed, a third column {@code tag_error} holds its reason
   * code (empty elsewhere). Existing columns of those names are overwritten in place, so a CSV can be re-scored.
   * Rows without a result (other split, bad row) get empty cells.
   *
   * @param results one entry per {@code dataset.rows()} element, in order; null for no result
   */
  public static void writeScored(Dataset dataset, Path out, String tag, List<RowScore> results) {
    if (results.size() != dataset.rows().size()) {
      throw new IllegalArgumentException(
          "got " + results.size() + " results for " + dataset.rows().size() + " rows of " + dataset.name());
    }
    if (tag == null || tag.isBlank()) {
      throw new IllegalArgumentException("the score column's tag must not be blank");
    }
    boolean anyError = results.stream().anyMatch(r -> r != null && r.isError());
    List<String> header = new ArrayList<>(dataset.header());
    int scoreCol = column(header, tag);
    int logitCol = column(header, tag + "_logit");
    int errorCol = anyError || header.contains(tag + "_error") ? column(header, tag + "_error") : -1;
    List<List<String>> rows = new ArrayList<>();
    for (int i = 0; i < results.size(); i++) {
      List<String> values = new ArrayList<>(dataset.rows().get(i).values());
      while (values.size() < header.size()) {
        values.add("");
      }
      RowScore r = results.get(i);
      boolean scored = r != null && !r.isError();
      values.set(scoreCol, scored ? Double.toString(r.score()) : "");
      values.set(logitCol, scored ? Double.toString(r.logit()) : "");
      if (errorCol >= 0) {
        values.set(errorCol, r != null && r.isError() ? r.errorCode() : "");
      }
      rows.add(values);
    }
    write(out, header, rows);
  }

  private static int column(List<String> header, String name) {
    int i = header.indexOf(name);
    if (i < 0) {
      header.add(name);
      i = header.size() - 1;
    }
    return i;
  }

  /** Writes any header and rows with the same dialect (parent folders are created). */
  public static void write(Path out, List<String> header, List<List<String>> rows) {
    try {
      Path parent = out.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      try (BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8);
          CSVPrinter printer = new CSVPrinter(w, WRITE)) {
        printer.printRecord(header);
        for (List<String> row : rows) {
          printer.printRecord(row);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write CSV " + out + ": " + e.getMessage(), e);
    }
  }

  // ---------------------------------------------------------------- folders

  /**
   * Lists a folder's images (not its sub-folders, as upstream) into a dataset, sorted by file name, with image
   * paths relative to the folder. Upstream's dummy CSV labels every image 1; pass the label you mean.
   *
   * @param label 0 or 1, or null for a CSV without a {@code class} column
   */
  public static Dataset listFolder(Path dir, String split, Integer label) {
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException(dir + " is not a folder");
    }
    if (label != null && label != 0 && label != 1) {
      throw new IllegalArgumentException("label must be 0, 1 or none, got " + label);
    }
    List<String> names;
    try (Stream<Path> files = Files.list(dir)) {
      names = files.filter(Files::isRegularFile)
          .map(p -> p.getFileName().toString())
          .filter(DatasetCsv::isImageName)
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
    }
    List<String> header = new ArrayList<>(List.of(Dataset.IMAGE));
    if (label != null) {
      header.add(Dataset.CLASS);
    }
    header.add(Dataset.SPLIT);
    List<DatasetRow> rows = new ArrayList<>();
    long line = 2;
    for (String n : names) {
      List<String> values = new ArrayList<>(List.of(n));
      if (label != null) {
        values.add(Integer.toString(label));
      }
      values.add(split);
      rows.add(new DatasetRow(line++, List.copyOf(values), n, new ImageRef.LocalFile(dir.resolve(n)), label, split,
          null, null));
    }
    Path abs = dir.toAbsolutePath().normalize();
    String name = abs.getFileName() != null ? abs.getFileName().toString() : "images";
    return new Dataset(null, name, abs, header, rows);
  }

  public static boolean isImageName(String fileName) {
    int dot = fileName.lastIndexOf('.');
    return dot > 0 && IMAGE_EXTENSIONS.contains(fileName.substring(dot + 1).toLowerCase(Locale.ROOT));
  }

  private static int embeddedLineBreaks(List<String> cells) {
    int n = 0;
    for (String c : cells) {
      for (int i = 0; i < c.length(); i++) {
        char ch = c.charAt(i);
        if (ch == '\n' || (ch == '\r' && (i + 1 == c.length() || c.charAt(i + 1) != '\n'))) {
          n++;
        }
      }
    }
    return n;
  }

  private static String stem(String fileName) {
    int dot = fileName.lastIndexOf('.');
    return dot > 0 ? fileName.substring(0, dot) : fileName;
  }
}

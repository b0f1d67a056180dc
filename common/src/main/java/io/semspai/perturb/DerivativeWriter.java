package io.semspai.perturb;

import io.semspai.eval.Dataset;
import io.semspai.eval.DatasetCsv;
import io.semspai.eval.DatasetRow;
import io.semspai.eval.ImageRef;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Saves perturbed images ({@code --write-derivatives DIR}) and, at {@link #finish()}, a CSV in upstream's layout
 * that points at them, so the derivative dataset can be shared and evaluated again without re-perturbing.
 *
 * <ul>
 *   <li>Files keep the source's relative path under the CSV root, with the extension replaced: {@code .jpg} holding
 *       the JPEG bytes themselves when JPEG compression was the last change (so the compression is what is
 *       stored), {@code .png} otherwise. URLs and images outside the root go under {@code remote/} and
 *       {@code external/}, prefixed with their CSV line. Name clashes get the line number appended.</li>
 *   <li>The CSV keeps every column of the source, replaces {@code image} with the derivative's path relative to
 *       the folder, and adds a {@code perturbation} column with the pipeline's canonical spec. Rows come out in
 *       source order whatever order images were written in. Rows that could not be perturbed are counted by
 *       reason and left out.</li>
 * </ul>
 *
 * <p>Thread-safe: {@link #write} may be called from several workers.
 */
public final class DerivativeWriter {
  public static final String PERTURBATION_COLUMN = "perturbation";

  private final Path dir;
  private final Dataset source;
  private final PerturbationPipeline pipeline;
  private final Set<String> usedNames = new HashSet<>();
  private final Map<Long, List<String>> written = new TreeMap<>();
  private final Map<String, Integer> skipped = new TreeMap<>();

  public DerivativeWriter(Path dir, Dataset source, PerturbationPipeline pipeline) {
    this.dir = dir;
    this.source = source;
    this.pipeline = pipeline;
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Saves one derivative and returns its path. */
  public Path write(DatasetRow row, Perturbed result) {
    if (!row.isValid()) {
      throw new IllegalArgumentException("line " + row.line() + " has a problem and has no image to derive from");
    }
    String relative = allocate(row, result.fileExtension());
    Path target = dir.resolve(relative);
    try {
      Files.createDirectories(target.getParent());
      Files.write(target, result.hasJpegBytes() ? result.jpegBytes() : Pixels.png(result.image()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write derivative " + target + ": " + e.getMessage(), e);
    }
    List<String> values = new ArrayList<>(row.values());
    values.set(source.header().indexOf(Dataset.IMAGE), relative);
    if (!source.header().contains(PERTURBATION_COLUMN)) {
      values.add(pipeline.spec());
    } else {
      values.set(source.header().indexOf(PERTURBATION_COLUMN), pipeline.spec());
    }
    synchronized (this) {
      written.put(row.line(), values);
    }
    return target;
  }

  /** Records a row that produced no derivative (missing file, undecodable image), by reason code. */
  public synchronized void skip(DatasetRow row, String reasonCode) {
    skipped.merge(reasonCode, 1, Integer::sum);
  }

  public synchronized int writtenCount() {
    return written.size();
  }

  /** Skipped rows by reason code, sorted by code. */
  public synchronized Map<String, Integer> skipped() {
    return new TreeMap<>(skipped);
  }

  /** Writes {@code DIR/<dataset name>.csv} and returns its path. */
  public synchronized Path finish() {
    List<String> header = new ArrayList<>(source.header());
    if (!header.contains(PERTURBATION_COLUMN)) {
      header.add(PERTURBATION_COLUMN);
    }
    Path csv = dir.resolve(source.name() + ".csv");
    DatasetCsv.write(csv, header, new ArrayList<>(written.values()));
    return csv;
  }

  private synchronized String allocate(DatasetRow row, String extension) {
    String base;
    if (row.ref() instanceof ImageRef.LocalFile local && local.path().toAbsolutePath().normalize()
        .startsWith(source.root().toAbsolutePath().normalize())) {
      base = source.root().toAbsolutePath().normalize().relativize(local.path().toAbsolutePath().normalize())
          .toString().replace('\\', '/');
    } else if (row.ref() instanceof ImageRef.LocalFile local) {
      base = "external/" + row.line() + "_" + local.path().getFileName();
    } else {
      String path = ((ImageRef.Remote) row.ref()).uri().getPath();
      String name = path == null || path.isEmpty() || path.endsWith("/")
          ? "image" : path.substring(path.lastIndexOf('/') + 1);
      base = "remote/" + row.line() + "_" + name;
    }
    String stem = stripExtension(sanitize(base));
    String candidate = stem + "." + extension;
    if (!usedNames.add(candidate)) {
      candidate = stem + "_" + row.line() + "." + extension;
      usedNames.add(candidate);
    }
    return candidate;
  }

  private static String stripExtension(String path) {
    int slash = path.lastIndexOf('/');
    int dot = path.lastIndexOf('.');
    return dot > slash + 1 ? path.substring(0, dot) : path;
  }

  /** Keeps names portable and inside the folder: no '..' segments, no odd characters. */
  private static String sanitize(String path) {
    StringBuilder out = new StringBuilder();
    for (String segment : path.split("/")) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        continue;
      }
      if (out.length() > 0) {
        out.append('/');
      }
      out.append(segment.replaceAll("[^A-Za-z0-9._+-]", "_"));
    }
    return out.length() == 0 ? "image" : out.toString();
  }
}

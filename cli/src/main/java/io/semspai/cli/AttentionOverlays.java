package io.semspai.cli;

import io.semspai.eval.DatasetRow;
import io.semspai.eval.ImageRef;
import io.semspai.image.RgbImage;
import io.semspai.spai.PatchBox;
import io.semspai.spai.SpaiResult.PatchAttention;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.imageio.ImageIO;

/**
 * {@code infer --attention}: one PNG per image under {@code OUTPUT/attention/}, the image the model saw with each SPAI
 * patch box outlined and tinted red by its Spectral Context Attention weight (averaged over heads; the weights of an
 * image sum to 1). A pixel's tint follows the summed weight of the boxes covering it, relative to the image's
 * hottest pixel; pixels no patch covers are dimmed. A box that overlaps no other and is large enough is labelled
 * with its weight in percent. Thread-safe.
 */
final class AttentionOverlays {
  static final String FOLDER = "attention";

  private final Path dir;
  private final Set<String> used = new HashSet<>();

  AttentionOverlays(Path outputDir) {
    this.dir = outputDir.resolve(FOLDER);
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UserError("cannot create " + dir + ": " + e.getMessage());
    }
  }

  Path dir() {
    return dir;
  }

  synchronized int count() {
    return used.size();
  }

  /** Draws and writes the overlay of one row; returns its path. */
  Path write(DatasetRow row, RgbImage image, List<PatchAttention> patches) {
    BufferedImage canvas = draw(image, patches);
    Path target = dir.resolve(allocate(row));
    try {
      if (!ImageIO.write(canvas, "png", target.toFile())) {
        throw new IllegalStateException("no ImageIO PNG writer on this JVM");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write attention overlay " + target + ": " + e.getMessage(), e);
    }
    return target;
  }

  static BufferedImage draw(RgbImage image, List<PatchAttention> patches) {
    int w = image.width();
    int h = image.height();
    // Heat per pixel: the summed weight of the boxes covering it. Blending once from this map keeps the image
    // visible where five-crop boxes overlap, which stacked translucent fills would paint over.
    float[] heat = new float[w * h];
    boolean[] seen = new boolean[w * h];
    for (PatchAttention p : patches) {
      PatchBox b = p.box();
      for (int y = Math.max(0, b.y()); y < Math.min(h, b.y() + b.height()); y++) {
        for (int x = Math.max(0, b.x()); x < Math.min(w, b.x() + b.width()); x++) {
          heat[y * w + x] += p.attention();
          seen[y * w + x] = true;
        }
      }
    }
    float max = 0;
    for (float v : heat) {
      max = Math.max(max, v);
    }
    BufferedImage canvas = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    byte[] rgb = image.rgb();
    int[] row = new int[w];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int i = y * w + x;
        double r = rgb[3 * i] & 0xFF;
        double g = rgb[3 * i + 1] & 0xFF;
        double bl = rgb[3 * i + 2] & 0xFF;
        if (!seen[i]) {
          // Pixels no patch covers (the grid drops the remainder) are dimmed: the model never looked at them.
          r *= 0.4;
          g *= 0.4;
          bl *= 0.4;
        } else {
          double a = max > 0 ? 0.6 * heat[i] / max : 0;
          r = (1 - a) * r + a * 255;
          g = (1 - a) * g + a * 40;
          bl = (1 - a) * bl;
        }
        row[x] = (int) Math.round(r) << 16 | (int) Math.round(g) << 8 | (int) Math.round(bl);
      }
      canvas.setRGB(0, y, w, 1, row, 0, w);
    }
    Graphics2D g = canvas.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setStroke(new BasicStroke(Math.max(1f, Math.min(w, h) / 400f)));
      int fontSize = Math.max(10, Math.min(w, h) / 40);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, fontSize));
      for (PatchAttention p : patches) {
        PatchBox b = p.box();
        g.setColor(new Color(255, 255, 255, 170));
        g.drawRect(b.x(), b.y(), b.width() - 1, b.height() - 1);
        // Only boxes that overlap no other get their weight written in: five-crop labels would pile up.
        boolean alone = patches.stream().filter(o -> o != p).noneMatch(o -> overlaps(o.box(), b));
        if (alone && b.width() >= 4 * fontSize && b.height() >= 2 * fontSize) {
          String text = String.format(Locale.ROOT, "%.1f%%", 100 * p.attention());
          g.setColor(Color.BLACK);
          g.drawString(text, b.x() + 5, b.y() + fontSize + 3);
          g.setColor(Color.WHITE);
          g.drawString(text, b.x() + 4, b.y() + fontSize + 2);
        }
      }
    } finally {
      g.dispose();
    }
    return canvas;
  }

  private static boolean overlaps(PatchBox a, PatchBox b) {
    return a.x() < b.x() + b.width() && b.x() < a.x() + a.width() && a.y() < b.y() + b.height()
        && b.y() < a.y() + a.height();
  }

  /**
   * The overlay's file name: the image cell's path with separators turned into {@code _}, the last segment of a URL
   * path for a remote image, and {@code .png}; a name already taken gets the CSV line appended.
   */
  private synchronized String allocate(DatasetRow row) {
    String base = row.ref() instanceof ImageRef.Remote r && r.uri().getPath() != null
        ? r.uri().getPath().substring(r.uri().getPath().lastIndexOf('/') + 1)
        : row.image();
    base = base.replace('\\', '/');
    int dot = base.lastIndexOf('.');
    if (dot > base.lastIndexOf('/') + 1) {
      base = base.substring(0, dot);
    }
    base = base.replaceAll("^[./]+", "").replaceAll("[^A-Za-z0-9._+-]", "_");
    if (base.isEmpty()) {
      base = "image";
    }
    String name = base + ".png";
    if (!used.add(name)) {
      name = base + "_" + row.line() + ".png";
      used.add(name);
    }
    return name;
  }
}

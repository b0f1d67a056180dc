package io.semspai.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a killed trainer leaves half-written in the store goes at the next start; releases and fresh work stay. */
class StoreLeftoversTest {
  @TempDir Path store;

  @Test
  void staleStagingFoldersAndPartialFilesGoEverythingElseStays() throws Exception {
    Instant old = Instant.now().minus(Duration.ofHours(3));
    Path staleStaging = Files.createDirectories(store.resolve(".staging-123/1.2.0"));
    Files.writeString(staleStaging.resolve("manifest.json"), "{}");
    Path stalePartial = Files.writeString(store.resolve(".semspai-1.2.0.zip.partial-456"), "half");
    Path staleUnpack = Files.createDirectories(store.resolve("unpacked/.1.1.0.partial-789"));
    for (Path p : new Path[] {staleStaging, staleStaging.getParent(), stalePartial, staleUnpack}) {
      Files.setLastModifiedTime(p, FileTime.from(old));
    }
    Path fresh = Files.createDirectories(store.resolve(".staging-999")); // another trainer's release in progress
    Path release = Files.writeString(store.resolve("semspai-1.1.0.zip"), "a release");
    Files.setLastModifiedTime(release, FileTime.from(old));
    Path unpacked = Files.createDirectories(store.resolve("unpacked/1.1.0"));
    Files.setLastModifiedTime(unpacked, FileTime.from(old));

    assertEquals(3, TrainerService.removeLeftovers(store, TrainerService.STALE_AFTER));
    assertFalse(Files.exists(staleStaging.getParent()));
    assertFalse(Files.exists(stalePartial));
    assertFalse(Files.exists(staleUnpack));
    assertTrue(Files.exists(fresh), "younger than an hour: may be another trainer's release being written");
    assertTrue(Files.exists(release));
    assertTrue(Files.exists(unpacked));
    assertEquals(0, TrainerService.removeLeftovers(store.resolve("missing"), TrainerService.STALE_AFTER));
  }
}

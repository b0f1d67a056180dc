package io.semspai.importer;

import java.util.Map;

/** What every {@link ComponentImporter} states the same way: its names and its {@code --set} keys. */
abstract class NamedImporter implements ComponentImporter {
  private final String component;
  private final String option;
  private final String weightFile;
  private final Map<String, String> keys;
  private final Map<String, String> aliases;

  NamedImporter(String component, String option, String weightFile, Map<String, String> keys,
      Map<String, String> aliases) {
    this.component = component;
    this.option = option;
    this.weightFile = weightFile;
    this.keys = keys;
    this.aliases = aliases;
  }

  @Override
  public final String component() {
    return component;
  }

  @Override
  public final String option() {
    return option;
  }

  @Override
  public final String weightFile() {
    return weightFile;
  }

  @Override
  public final Map<String, String> settingKeys() {
    return keys;
  }

  @Override
  public final Map<String, String> settingAliases() {
    return aliases;
  }
}

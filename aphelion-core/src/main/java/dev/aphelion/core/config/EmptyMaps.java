package dev.aphelion.core.config;

import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;

/** The shared empty sorted map: most nodes and many configs have no entries. */
final class EmptyMaps {
  static final SortedMap<String, ConfigValue> SORTED =
      Collections.unmodifiableSortedMap(new TreeMap<>(Utf8.ORDER));

  private EmptyMaps() {}
}

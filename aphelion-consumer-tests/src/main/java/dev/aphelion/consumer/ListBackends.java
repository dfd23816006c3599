package dev.aphelion.consumer;

import dev.aphelion.core.backend.BackendRegistry;

/** Prints one line per discovered backend provider: {@code BACKEND name available|unavailable}. */
public final class ListBackends {
  private ListBackends() {}

  /**
   * Lists the providers {@link BackendRegistry#load()} discovers.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    System.out.println("MODULE " + BackendRegistry.class.getModule().getName());
    for (BackendRegistry.ProviderInfo info : BackendRegistry.load().listing()) {
      System.out.println("BACKEND " + info.name() + " " + (info.isUsable() ? "available" : "unavailable"));
    }
  }
}

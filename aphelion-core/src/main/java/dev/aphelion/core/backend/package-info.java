/**
 * The backend SPI: {@link dev.aphelion.core.backend.Backend} (an {@code AutoCloseable} compute
 * backend with {@link dev.aphelion.core.backend.DeviceCapabilities} and an {@link
 * dev.aphelion.core.backend.Availability}), {@link dev.aphelion.core.backend.BackendProvider}
 * (cheap, found through {@link java.util.ServiceLoader}, creates backends lazily) and {@link
 * dev.aphelion.core.backend.BackendRegistry} (lists providers with their availability and picks
 * one by name, by {@code -Daphelion.backend}, by {@code APHELION_BACKEND} or by priority). {@link
 * dev.aphelion.core.backend.NullBackend} is always available and computes nothing.
 */
package dev.aphelion.core.backend;

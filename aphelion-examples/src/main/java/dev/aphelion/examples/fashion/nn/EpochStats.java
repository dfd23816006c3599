package dev.aphelion.examples.fashion.nn;

/**
 * What one epoch of training achieved.
 *
 * @param epoch the epoch, 1-based
 * @param trainLoss mean cross-entropy over the epoch's minibatches (measured before each update)
 * @param trainAccuracy fraction of the epoch's training examples classified correctly
 * @param testLoss mean cross-entropy on the test set after the epoch
 * @param testAccuracy fraction of the test set classified correctly after the epoch
 * @param seconds wall-clock time of the epoch's training steps (evaluation excluded)
 */
public record EpochStats(
    int epoch, double trainLoss, double trainAccuracy, double testLoss, double testAccuracy,
    double seconds) {}

/**
 * Data-parallel training of {@code dev.aphelion.tritter.train} models on Apache Spark: {@link
 * dev.aphelion.spark.SparkTrainer} runs one {@link dev.aphelion.tritter.train.DataParallelWorker}
 * per partition as a barrier stage, and {@link dev.aphelion.spark.BarrierExchange} exchanges the
 * (compressed) gradients through {@code BarrierTaskContext.allGather}. Spark is a {@code provided}
 * dependency; this jar is the automatic module {@code dev.aphelion.spark}.
 */
package dev.aphelion.spark;

/**
 * Sentence vectors from token vectors: the pooling modes of sentence-transformers' Pooling
 * module ({@link io.jembed.core.pooling.Pooling}), its Normalize module, and how a model directory
 * selects them ({@link io.jembed.core.pooling.PoolingConfig#read(java.nio.file.Path)}).
 */
package io.jembed.core.pooling;

/**
 * The runtime: the engine that owns a node's one connection, its thread, reconnects and readiness;
 * the operator view.
 *
 * <p>Internal: public only so that the Akka and Pekko adapters, which share this code, can use it.
 * It may change in any release; configure the library through its configuration keys instead.
 */
@Internal
package io.github.pgdiscovery.core;

package io.github.pgdiscovery.core;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks what is public only so that the Akka and Pekko adapters can use it: not part of the
 * library's API, and free to change in any release. The API is the configuration (reference.conf),
 * the readiness check, the operator route and its JSON, and the discovery method's class name.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.PACKAGE, ElementType.TYPE})
public @interface Internal {}

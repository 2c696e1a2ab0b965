package io.github.pgdiscovery.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A test class that needs a PostgreSQL server: {@link PostgresExtension} provides a {@link
 * TestDatabase}, and the tag "database" lets {@code ./mvnw verify -Dquick} leave the class out of a
 * developer's quick run.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag(DatabaseTest.TAG)
@ExtendWith(PostgresExtension.class)
public @interface DatabaseTest {

  /** The JUnit tag of every test class that needs a server; the quick profile excludes it. */
  String TAG = "database";
}

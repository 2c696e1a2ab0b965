package io.github.pgdiscovery.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemGenerationException;
import org.bouncycastle.util.io.pem.PemObjectGenerator;

/**
 * Certificates made at test time, so that no key material lives in the repository and nothing
 * expires: certificate authorities and server certificates they sign, written as PEM files that
 * both OpenSSL (the server) and pgjdbc's {@code sslrootcert} read.
 *
 * <p>Keys are EC P-256: generating them is quick, and every TLS stack involved accepts them.
 */
public final class TestCertificates {

  private static final String SIGNATURE_ALGORITHM = "SHA256withECDSA";

  /**
   * Backdated, so that a server or client clock slightly behind ours still accepts the certificate.
   */
  private static final Duration BACKDATE = Duration.ofHours(1);

  private static final Duration VALIDITY = Duration.ofDays(2);
  private static final SecureRandom RANDOM = new SecureRandom();

  private TestCertificates() {}

  /**
   * A new certificate authority with a self-signed certificate whose common name is {@code
   * commonName}.
   */
  public static Authority newAuthority(String commonName) {
    KeyPair keys = newKeyPair();
    X500Name name = commonName(commonName);
    try {
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder =
          builder(name, name, keys.getPublic())
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
              .addExtension(
                  Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
              .addExtension(
                  Extension.subjectKeyIdentifier,
                  false,
                  extensions.createSubjectKeyIdentifier(keys.getPublic()));
      return new Authority(keys, sign(builder, keys.getPrivate()));
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("could not make the certificate authority " + commonName, e);
    }
  }

  /**
   * A certificate authority: its key signs server certificates, its certificate is what clients
   * trust.
   */
  public static final class Authority {

    private final KeyPair keys;
    private final X509Certificate certificate;

    private Authority(KeyPair keys, X509Certificate certificate) {
      this.keys = keys;
      this.certificate = certificate;
    }

    public X509Certificate certificate() {
      return certificate;
    }

    /**
     * A server certificate signed by this authority, for TLS server authentication, naming {@code
     * commonName} as subject and {@code dnsNames} and {@code ipAddresses} as subject alternative
     * names (which is what clients check the host they dialled against).
     */
    public ServerCertificate issueServerCertificate(
        String commonName, List<String> dnsNames, List<String> ipAddresses) {
      KeyPair serverKeys = newKeyPair();
      List<GeneralName> names = new ArrayList<>();
      dnsNames.forEach(dns -> names.add(new GeneralName(GeneralName.dNSName, dns)));
      ipAddresses.forEach(ip -> names.add(new GeneralName(GeneralName.iPAddress, ip)));
      try {
        JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
        X509v3CertificateBuilder builder =
            builder(
                    X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()),
                    commonName(commonName),
                    serverKeys.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                .addExtension(
                    Extension.extendedKeyUsage,
                    false,
                    new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
                .addExtension(
                    Extension.subjectAlternativeName,
                    false,
                    new GeneralNames(names.toArray(GeneralName[]::new)))
                .addExtension(
                    Extension.subjectKeyIdentifier,
                    false,
                    extensions.createSubjectKeyIdentifier(serverKeys.getPublic()))
                .addExtension(
                    Extension.authorityKeyIdentifier,
                    false,
                    extensions.createAuthorityKeyIdentifier(keys.getPublic()));
        return new ServerCertificate(serverKeys, sign(builder, keys.getPrivate()));
      } catch (GeneralSecurityException | CertIOException e) {
        throw new IllegalStateException(
            "could not issue a server certificate for " + commonName, e);
      }
    }

    /**
     * Writes this authority's certificate as PEM, e.g. for {@code sslrootcert}; returns {@code
     * file}.
     */
    public Path writeCertificate(Path file) {
      return writePem(file, certificate, false);
    }

    @Override
    public String toString() {
      return "Authority[" + certificate.getSubjectX500Principal() + "]";
    }
  }

  /** A server's certificate and private key. */
  public static final class ServerCertificate {

    private final KeyPair keys;
    private final X509Certificate certificate;

    private ServerCertificate(KeyPair keys, X509Certificate certificate) {
      this.keys = keys;
      this.certificate = certificate;
    }

    public X509Certificate certificate() {
      return certificate;
    }

    /** Writes the certificate as PEM, e.g. for {@code ssl_cert_file}; returns {@code file}. */
    public Path writeCertificate(Path file) {
      return writePem(file, certificate, false);
    }

    /**
     * Writes the private key as PEM, e.g. for {@code ssl_key_file}, into a file that only its owner
     * (the user running this JVM) can read or write: the file is created with mode 0600 before the
     * key goes in. Returns {@code file}.
     */
    public Path writePrivateKey(Path file) {
      try {
        // PKCS#8 ("PRIVATE KEY"): it names the curve, which OpenSSL needs and a bare SEC1 key from
        // a JCA key lacks.
        return writePem(file, new JcaPKCS8Generator(keys.getPrivate(), null), true);
      } catch (PemGenerationException e) {
        throw new IllegalStateException("could not encode the private key", e);
      }
    }

    @Override
    public String toString() {
      return "ServerCertificate[" + certificate.getSubjectX500Principal() + "]";
    }
  }

  private static KeyPair newKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("could not generate an EC key pair", e);
    }
  }

  private static X500Name commonName(String commonName) {
    return new X500NameBuilder(BCStyle.INSTANCE)
        .addRDN(BCStyle.O, "akka-discovery-postgres tests")
        .addRDN(BCStyle.CN, Objects.requireNonNull(commonName, "commonName"))
        .build();
  }

  private static X509v3CertificateBuilder builder(
      X500Name issuer, X500Name subject, PublicKey subjectKey) {
    Instant now = Instant.now();
    // Positive and unique enough: 64 random bits.
    BigInteger serial = new BigInteger(64, RANDOM).add(BigInteger.ONE);
    return new JcaX509v3CertificateBuilder(
        issuer,
        serial,
        Date.from(now.minus(BACKDATE)),
        Date.from(now.plus(VALIDITY)),
        subject,
        subjectKey);
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey issuerKey)
      throws GeneralSecurityException {
    try {
      ContentSigner signer = new JcaContentSignerBuilder(SIGNATURE_ALGORITHM).build(issuerKey);
      return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(
          "could not create a " + SIGNATURE_ALGORITHM + " signer", e);
    }
  }

  private static Path writePem(Path file, Object object, boolean ownerOnly) {
    try {
      Files.deleteIfExists(file);
      if (ownerOnly && FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
        Set<PosixFilePermission> ownerReadWrite = PosixFilePermissions.fromString("rw-------");
        Files.createFile(file, PosixFilePermissions.asFileAttribute(ownerReadWrite));
        // The umask only ever removes bits; set the mode explicitly so it is exactly 0600.
        Files.setPosixFilePermissions(file, ownerReadWrite);
      }
      try (Writer out = Files.newBufferedWriter(file, StandardCharsets.US_ASCII);
          JcaPEMWriter pem = new JcaPEMWriter(out)) {
        if (object instanceof PemObjectGenerator generator) {
          pem.writeObject(generator);
        } else {
          pem.writeObject(object);
        }
      }
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("could not write " + file, e);
    }
  }
}

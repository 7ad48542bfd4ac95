import Testing

@testable import Platform

@Suite struct SMTPConfigurationTests {
    @Test func submissionURLWithRequiredSTARTTLS() throws {
        let config = try SMTPConfiguration.parse(
            url: "smtp://user%40example.com:p%3Ass%2Fw%2Bd@mail.example.com:587?starttls=required")
        #expect(config.host == "mail.example.com")
        #expect(config.port == 587)
        #expect(config.security == .startTLS(required: true))
        #expect(config.username == "user@example.com")
        #expect(config.password == "p:ss/w+d")
        #expect(config.certificateVerification == .fullVerification)
        #expect(config.trustRoots == .default)
        #expect(config.heloName == "localhost")
        #expect(config.connectTimeout == .seconds(10))
        #expect(config.commandTimeout == .seconds(30))
        #expect(config.maxAttempts == 3)
        #expect(!config.description.contains("p:ss"), "description must not leak the password")
    }

    @Test func defaultsAndStartTLSModes() throws {
        let plain = try SMTPConfiguration.parse(url: "smtp://relay.internal")
        #expect(plain.port == 25)
        #expect(plain.security == .startTLS(required: false))
        #expect(plain.username == nil && plain.password == nil)
        #expect(
            try SMTPConfiguration.parse(url: "smtp://h?starttls=opportunistic").security == .startTLS(required: false))
        #expect(try SMTPConfiguration.parse(url: "smtp://h?starttls=off").security == SMTPConfiguration.Security.none)
    }

    @Test func smtpsWithVerificationOptions() throws {
        let config = try SMTPConfiguration.parse(url: "smtps://u:p@smtp.example.com?verify=none&ca=/etc/mail/ca.pem")
        #expect(config.security == .implicitTLS)
        #expect(config.port == 465)
        #expect(config.certificateVerification == .none)
        #expect(config.trustRoots == .file("/etc/mail/ca.pem"))
        #expect(try SMTPConfiguration.parse(url: "smtps://[::1]:2465").host == "::1")
    }

    @Test(arguments: [
        "http://example.com", "smtp://", "smtp://h?starttls=maybe", "smtps://h?starttls=required",
        "smtp://h?verify=sometimes", "smtp://h?unknown=1", "smtp://h:0", "not a url",
    ])
    func invalidURLsAreRejected(url: String) {
        #expect(throws: MailError.self) { try SMTPConfiguration.parse(url: url) }
    }
}

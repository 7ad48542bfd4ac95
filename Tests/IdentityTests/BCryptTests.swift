import Testing

@testable import Identity

/// (password, hash) pairs that must verify.
private let knownVectors: [(String, String)] = [
    // OpenBSD / Openwall crypt_blowfish test vectors.
    ("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
    ("U*U*", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK"),
    ("U*U*U", "$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a"),
    (
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789chars after 72 are ignored",
        "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui"
    ),
    ("", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy"),
    // Generated with Python bcrypt 5.0.0 (`bcrypt.hashpw`).
    ("", "$2b$04$OwSBsvU5doc8b19o9159b.03qgpJdGZ6W81tNEcdLmAlic8zRCqPm"),
    ("password", "$2b$04$cAtMNi7ffHeOsCHlmVCFwOnJCuYShrkm3Lt.TUX/YEbUAjZj.E3qe"),
    ("correct horse battery staple", "$2b$05$yYuJPcZkdhWHUygekigvReCBvGUeMm/Dkn7AsgC65nFYRhXtRZM/u"),
    ("pässwörd 🔑 日本語", "$2b$04$VkrDmS4UfUZf9xG1ULWiseD2Lh5nD3n5vuxqJgf01j5.JMmLd1Msu"),
    (String(repeating: "a", count: 72), "$2b$04$AL./9fxlv./LR1m7q1V1vOtNLQVPI4QJEO/h.xNrCH1vUoWebqqtO"),
    (String(repeating: "x", count: 71), "$2a$04$l2/gdNHcyHS/59XpNBGJtuxDWUTjJXoxTwKsKniKzFNmzI3I/g94K"),
    ("secret", "$2a$06$iYNaXmJ3ueo5OaAXHSwU9eNUuRru3CL3m1Xfb.EeTTB6s5ebSBdra"),
    ("U*U", "$2a$04$YKrszJBzJPt1Tite6cNrGOVPQbORyjjV.WsUlbgjBQrNZxKbw.A0."),
    ("hunter2", "$2y$04$D9yHQkC4w10Xyv1X64iyPO.PAWH7MmnCVSjRhnUtsUSrun6UfT0/G"),
    ("", "$2y$05$sIhLmQKvO7l8H8TswHuG.uBv9WLtFsLqSdQbUaBsvoKDQpKaDojWa"),
    ("tab\tnew\nline\"quote\\", "$2b$10$LqDJ.yN43HQvTvM9BAUULOjAgEV9UUoyheZQXnSm0FC6uJREPQdMC"),
    // > 72 bytes: Python hashed the first 72 bytes (71 × "a" + first byte of "é").
    (
        String(repeating: "a", count: 71) + "étail that is ignored",
        "$2b$04$abcdefghijklmnopqrstuuoVx8RufeJl2sf6nnK3ltb8OHjZZZsny"
    ),
    // 100-byte password; Python hashed its first 72 bytes.
    (
        String(String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 3).prefix(100)),
        "$2b$05$1234567890abcdefghijkOmcVeVn.WIpWY.W4YaHKksECxKB1ylL6"
    ),
]

@Test(arguments: knownVectors.indices)
func knownVectorVerifies(index: Int) throws {
    let (password, hash) = knownVectors[index]
    #expect(try BCrypt.verify(password, against: hash))
}

@Test(arguments: knownVectors.indices)
func knownVectorRecomputes(index: Int) throws {
    let (password, hash) = knownVectors[index]
    #expect(try BCrypt.hash(password, setting: String(hash.prefix(29))) == hash)
}

@Test(arguments: knownVectors.indices)
func wrongPasswordIsRejected(index: Int) throws {
    let (password, hash) = knownVectors[index]
    #expect(try !BCrypt.verify(password + "x", against: hash) || password.utf8.count >= 72)
    #expect(try !BCrypt.verify("U*U" + password, against: hash))
}

@Test func onlyFirst72BytesCount() throws {
    let base = String(repeating: "z", count: 72)
    let hash = try BCrypt.hash(base, cost: 4)
    #expect(try BCrypt.verify(base + "anything", against: hash))
    #expect(try !BCrypt.verify(String(base.dropLast()), against: hash))
}

@Test func roundTrip() throws {
    for password in ["", "password", "pässwörd 🔑", String(repeating: "long", count: 30)] {
        let hash = try BCrypt.hash(password, cost: 4)
        #expect(hash.utf8.count == 60)
        #expect(hash.hasPrefix("$2b$04$"))
        #expect(BCrypt.cost(of: hash) == 4)
        #expect(try BCrypt.verify(password, against: hash))
        #expect(try !BCrypt.verify("!" + password, against: hash))
    }
}

@Test func saltsAreRandom() throws {
    let a = try BCrypt.hash("same", cost: 4)
    let b = try BCrypt.hash("same", cost: 4)
    #expect(a != b)
    #expect(a.prefix(29) != b.prefix(29))
}

@Test func costIsEncoded() throws {
    let hash = try BCrypt.hash("pw", cost: 11)
    #expect(hash.hasPrefix("$2b$11$"))
    #expect(BCrypt.cost(of: hash) == 11)
    #expect(BCrypt.cost(of: "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW") == 5)
    #expect(BCrypt.cost(of: "$2y$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW") == 31)
}

@Test(arguments: [-1, 0, 3, 32, 100])
func invalidCostThrows(cost: Int) {
    #expect(throws: BCryptError.invalidCost) { try BCrypt.hash("pw", cost: cost) }
}

@Test(arguments: [
    "",
    "password",
    "$2a$05$",
    "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe",  // too short
    "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeWW",  // too long
    "$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",  // unknown minor
    "$2$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeWx",  // no minor
    "$3a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
    "$2a$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",  // cost too small
    "$2a$32$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",  // cost too large
    "$2a$5$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeWx",  // one-digit cost
    "$2a$x5$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
    "$2a$05!CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
    "$2a$05$CCCCCCCCCCCCCCCCCCCCCDE5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",  // non-canonical salt
    "$2a$05$CCCCCCCCCCCCCCCCCCCC+.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",  // '+' not in alphabet
    "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe=",  // '=' not in alphabet
    "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyO\u{E9}",  // non-ASCII, 60 bytes
    "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
])
func malformedHashThrows(hash: String) {
    #expect(throws: BCryptError.malformedHash) { try BCrypt.verify("U*U", against: hash) }
    #expect(BCrypt.cost(of: hash) == nil)
}

@Test func nonCanonicalChecksumDoesNotMatch() throws {
    // Last checksum character with non-zero unused bits: well-formed, but never equal.
    #expect(try !BCrypt.verify("U*U", against: "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeX"))
}

@Test func prefixesAreInterchangeable() throws {
    let b = "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
    let y = "$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
    #expect(try BCrypt.verify("U*U", against: b))
    #expect(try BCrypt.verify("U*U", against: y))
}

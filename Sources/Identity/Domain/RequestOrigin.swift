import Platform

/// Where a request came from, as the audit log and sessions record it.
package struct RequestOrigin: Sendable, Equatable {
    package var ip: String?
    package var userAgent: String?
    package var requestID: String?

    package init(ip: String? = nil, userAgent: String? = nil, requestID: String? = nil) {
        self.ip = ip
        self.userAgent = userAgent
        self.requestID = requestID
    }

    static let commandLine = RequestOrigin()
}

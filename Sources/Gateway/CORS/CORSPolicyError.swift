/// Why a CORS policy was refused; the message tells the route-table author what to change.
package enum CORSPolicyError: Error, Hashable, CustomStringConvertible {
    case wildcardWithCredentials
    case wildcardMixedWithOrigins
    case nullOriginWithCredentials
    case invalidOrigin(String)
    case invalidMethod(String)
    case invalidHeaderName(String)
    case negativeMaxAge(Int)

    package var description: String {
        switch self {
        case .wildcardWithCredentials:
            "CORS policy allows origin \"*\" together with credentials; browsers refuse that combination and "
                + "echoing any origin with credentials would expose users' data: list the allowed origins instead."
        case .wildcardMixedWithOrigins:
            "CORS policy mixes \"*\" with explicit origins: use either \"*\" alone or a list of origins."
        case .nullOriginWithCredentials:
            "CORS policy allows origin \"null\" with credentials; any sandboxed page can send \"null\", so this "
                + "would expose users' data."
        case .invalidOrigin(let origin):
            "CORS origin \"\(origin)\" is not a serialized origin like https://app.example.com "
                + "(scheme, host and optional port; no path or trailing slash)."
        case .invalidMethod(let method): "CORS method \"\(method)\" is not a valid HTTP method name; list methods."
        case .invalidHeaderName(let name): "CORS header \"\(name)\" is not a valid header name; list header names."
        case .negativeMaxAge(let seconds): "CORS max_age must not be negative (got \(seconds))."
        }
    }
}

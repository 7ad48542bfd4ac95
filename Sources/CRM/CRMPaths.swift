/// Where the CRM is served: its JSON API (routes register under these; pages link their forms' scripts to them).
enum CRMPaths {
    static let api = "/api/v1/crm"
    static let imports = "\(api)/imports"
}

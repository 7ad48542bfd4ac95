import Foundation
import Kernel
import Platform

/// The API gateway: the one entry point of a deployment. In one process it sits in front of the modules' routers
/// and calls them directly; in a split deployment it proxies to remote module processes over HTTP.
package struct GatewayModule: Module {
    package let name = "gateway"

    package init() {}
}

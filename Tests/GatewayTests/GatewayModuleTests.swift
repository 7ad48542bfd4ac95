import Gateway
import Testing

@Suite struct GatewayModuleTests {
    @Test func moduleIsNamedGateway() {
        #expect(GatewayModule().name == "gateway")
    }
}

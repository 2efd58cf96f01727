import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

// The rollout bench's service: a JDK HTTP server that registers itself in
// Nacos (v1 HTTP API) and heartbeats like a Nacos client, and shuts down in
// Spring Cloud's order: the web server stops gracefully first (in-flight
// requests finish, at most 5 s, as Spring Boot's graceful shutdown waits
// for them; then the server stops and its connections close), then the
// instance is deregistered. (The JDK's HttpServer.stop(5) alone waits its
// whole 5 s when no request comes during it.) POST /actuator/deregister takes it out of Nacos early, as
// Spring's service-registry endpoint does. With SHUTDOWN_MODE=tomcat it
// also does what Spring Boot's graceful shutdown on Tomcat does once the
// shutdown begins: a request that arrives on a kept-alive connection is
// rejected, the connection closed without an answer (spring-boot#40108).
public class Service {
    static final HttpClient http = HttpClient.newHttpClient();
    static final AtomicBoolean beating = new AtomicBoolean(true);
    static final AtomicBoolean stopping = new AtomicBoolean(false);
    static final AtomicInteger active = new AtomicInteger();
    static String nacos, instance;

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(System.getenv("PORT"));
        nacos = System.getenv("NACOS_ADDR");
        String ip = System.getenv().getOrDefault("IP", "127.0.0.1"); // the address callers reach
        instance = "serviceName=" + System.getenv("SERVICE") + "&ip=" + ip + "&port=" + port + "&ephemeral=true";
        long beatMillis = Long.parseLong(System.getenv().getOrDefault("BEAT_MS", "500"));
        int workMillis = Integer.parseInt(System.getenv().getOrDefault("WORK_MS", "20"));

        String host = System.getenv().getOrDefault("HOST", "127.0.0.1");
        HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 512);
        server.setExecutor(Executors.newFixedThreadPool(64));
        boolean tomcat = "tomcat".equals(System.getenv("SHUTDOWN_MODE"));
        server.createContext("/", ex -> {
            if (tomcat && stopping.get()) {
                ex.close(); // no answer: the JDK server closes the connection
                return;
            }
            active.incrementAndGet();
            try {
                sleep(workMillis);
                reply(ex, "ok " + port + "\n");
            } finally {
                active.decrementAndGet();
            }
        });
        server.createContext("/actuator/deregister", ex -> {
            event("deregister");
            deregister();
            reply(ex, "{\"status\":\"DOWN\"}");
        });
        server.createContext("/actuator/shutdown", ex -> { // as Spring Boot's: answer, then exit
            event("shutdown-request");
            reply(ex, "{\"message\":\"Shutting down, bye...\"}");
            new Thread(() -> System.exit(0)).start();
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            event("hook-start");
            stopping.set(true);
            for (long end = System.currentTimeMillis() + 5000; active.get() > 0 && System.currentTimeMillis() < end; ) {
                sleep(10);
            }
            server.stop(0);
            deregister();
            event("hook-done");
        }));
        server.start();
        nacosCall("POST", "/nacos/v1/ns/instance?" + instance);
        event("registered");
        while (true) {
            sleep(beatMillis);
            if (beating.get()) {
                String reply = nacosCall("PUT", "/nacos/v1/ns/instance/beat?" + instance);
                if (reply.contains("20404")) {
                    nacosCall("POST", "/nacos/v1/ns/instance?" + instance);
                }
            }
        }
    }

    static void deregister() {
        beating.set(false);
        nacosCall("DELETE", "/nacos/v1/ns/instance?" + instance);
    }

    static String nacosCall(String method, String pathAndQuery) {
        try {
            HttpRequest req = HttpRequest.newBuilder(URI.create(nacos + pathAndQuery))
                .method(method, HttpRequest.BodyPublishers.noBody()).build();
            return http.send(req, HttpResponse.BodyHandlers.ofString()).body();
        } catch (Exception e) {
            return "";
        }
    }

    static void reply(HttpExchange ex, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(200, bytes.length);
        ex.getResponseBody().write(bytes);
        ex.close();
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static synchronized void event(String name) {
        String file = System.getenv("EVENTS_FILE");
        if (file == null) {
            return;
        }
        try {
            Files.writeString(Path.of(file), System.currentTimeMillis() + " " + name + "\n",
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            e.printStackTrace();
        }
    }
}

// Serverless Orders, the customer app: sign in with the user pool's app client, place an
// order, watch its status change live over the WebSocket API, cancel it while it can be.
// No framework and no build step: the page is small, and the browser has what it needs
// (fetch, WebSocket, <template>). Settings come from config.json, which each deployment
// writes (the Pulumi program in the cloud, the runner locally).

const CANCELLABLE = new Set(["RECEIVED", "PAYMENT_OK"]);
const FINAL = new Set(["SENT_TO_RESTAURANT", "PAYMENT_FAILED", "FAILED", "CANCELLED"]);
// The app's own status of an order it placed before the order's first event.
const SUBMITTED = "SUBMITTED";
const SESSION = "serverless-orders.session";

const $ = (selector) => document.querySelector(selector);
const config = await (await fetch("config.json", { cache: "no-cache" })).json();

let session = JSON.parse(sessionStorage.getItem(SESSION) || "null");
const orders = new Map(); // order_id -> what the app knows, the highest version wins
let socket = null;
let reconnectDelay = 1000;

function say(text) {
  $("#message").textContent = text || "";
}

// The claims of a JWT (the token was checked by whoever issued it; the app only reads them).
function claims(token) {
  const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(payload));
}

function expired(token) {
  return claims(token).exp * 1000 <= Date.now();
}

async function signIn(email, password) {
  const answer = await fetch(config.cognito_endpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
    },
    body: JSON.stringify({
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: config.client_id,
      AuthParameters: { USERNAME: email, PASSWORD: password },
    }),
  });
  const body = await answer.json();
  if (!answer.ok || !body.AuthenticationResult) {
    throw new Error(body.message || "sign-in failed");
  }
  session = { email, token: body.AuthenticationResult.IdToken };
  sessionStorage.setItem(SESSION, JSON.stringify(session));
}

function signOut(reason) {
  session = null;
  sessionStorage.removeItem(SESSION);
  orders.clear();
  if (socket) {
    socket.onclose = null;
    socket.close();
    socket = null;
  }
  render();
  say(reason);
}

// A call of the Orders API with the ID token; a 401 signs out.
async function api(path, init = {}) {
  const answer = await fetch(config.api_url + path, {
    ...init,
    headers: { Authorization: session.token, "Content-Type": "application/json", ...init.headers },
  });
  if (answer.status === 401) {
    signOut("Your session has ended: sign in again.");
    throw new Error("signed out");
  }
  return answer;
}

async function message(answer) {
  try {
    return (await answer.json()).message;
  } catch {
    return `the API answered ${answer.status}`;
  }
}

// Keeps what is newest of an order: a push, a read and a repeat may come in any order.
function merge(order) {
  const known = orders.get(order.order_id);
  if (!known || (order.version ?? 0) >= (known.version ?? 0)) {
    orders.set(order.order_id, { ...known, ...order });
  }
}

async function loadOrders() {
  const answer = await api("/orders?limit=50");
  if (!answer.ok) {
    say(await message(answer));
    return;
  }
  const page = await answer.json();
  for (const order of page.orders) merge(order);
  $("#orders").dataset.loaded = "true";
  render();
}

function connect() {
  if (!session || socket) return;
  const url = `${config.websocket_url}?token=${encodeURIComponent(session.token)}`;
  socket = new WebSocket(url);
  socket.onopen = () => {
    reconnectDelay = 1000;
    $("#live").dataset.state = "open";
    $("#live").textContent = "live";
    // What changed while the socket was down is read back.
    loadOrders().catch(() => {});
  };
  socket.onmessage = (event) => {
    const change = JSON.parse(event.data);
    merge(change);
    render();
  };
  socket.onclose = () => {
    socket = null;
    $("#live").dataset.state = "closed";
    $("#live").textContent = "reconnecting…";
    if (!session) return;
    if (expired(session.token)) {
      signOut("Your session has ended: sign in again.");
      return;
    }
    setTimeout(connect, reconnectDelay);
    reconnectDelay = Math.min(reconnectDelay * 2, 15000);
  };
}

async function placeOrder(restaurant, quantity) {
  const answer = await api("/orders", {
    method: "POST",
    body: JSON.stringify({ restaurant_id: restaurant, quantity }),
  });
  if (answer.status !== 204) {
    say(await message(answer));
    return;
  }
  const id = answer.headers.get("X-Order-Id");
  merge({ order_id: id, restaurant_id: restaurant, quantity, status: SUBMITTED, version: 0,
          created_at: new Date().toISOString() });
  say("");
  render();
}

async function cancel(id) {
  const answer = await api(`/orders/${encodeURIComponent(id)}/cancel`, { method: "POST" });
  if (answer.status === 202) {
    say("");
  } else {
    say(await message(answer));
  }
  // The cancel's event brings the new status; the order is read back too, in case the
  // socket is down.
  const read = await api(`/orders/${encodeURIComponent(id)}`);
  if (read.ok) merge(await read.json());
  render();
}

function row(order) {
  const item = $("#order-row").content.firstElementChild.cloneNode(true);
  item.dataset.orderId = order.order_id;
  item.dataset.status = order.status;
  item.querySelector(".restaurant").textContent = order.restaurant_id;
  item.querySelector(".quantity").textContent = order.quantity != null ? `× ${order.quantity}` : "";
  item.querySelector(".status").textContent = order.status.replace(/_/g, " ").toLowerCase();
  const when = order.created_at || order.at;
  const time = item.querySelector("time");
  if (when) {
    time.dateTime = when;
    time.textContent = new Date(when).toLocaleTimeString();
  }
  const button = item.querySelector("[data-testid=cancel]");
  if (CANCELLABLE.has(order.status)) {
    button.addEventListener("click", () => {
      button.disabled = true;
      cancel(order.order_id).catch((error) => say(error.message));
    });
  } else {
    button.remove();
  }
  item.classList.toggle("final", FINAL.has(order.status));
  return item;
}

function render() {
  const signedIn = Boolean(session);
  $("#sign-in").hidden = signedIn;
  $("#orders-view").hidden = !signedIn;
  $("#who").hidden = !signedIn;
  if (!signedIn) {
    $("#orders").replaceChildren();
    $("#orders").dataset.loaded = "false";
    return;
  }
  $("[data-testid=signed-in-as]").textContent = session.email;
  const newestFirst = [...orders.values()].sort((a, b) =>
    String(b.created_at || b.at).localeCompare(String(a.created_at || a.at)));
  $("#orders").replaceChildren(...newestFirst.map(row));
  $("#none").hidden = orders.size > 0;
}

$("#sign-in").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    await signIn(form.get("username"), form.get("password"));
    say("");
    render();
    connect();
  } catch (error) {
    say(`Sign-in failed: ${error.message}`);
  }
});

$("#place").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  placeOrder(form.get("restaurant"), Number(form.get("quantity"))).catch((error) => say(error.message));
});

$("[data-testid=sign-out]").addEventListener("click", () => signOut(""));

if (session && expired(session.token)) {
  signOut("Your session has ended: sign in again.");
} else {
  render();
  connect();
}

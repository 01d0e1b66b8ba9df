%%% ID Chat: an agent's session lives as long as its short-lived credential.
%%%
%%% With IDCHAT_AGENTS_MODE=oidc the agent host logs agents in with ejabberd's
%%% native JWT authentication (auth_method: jwt): the credential the HTTP
%%% service issues after the OpenID Connect sign-in is the SASL PLAIN password.
%%% ejabberd checks it at login only; this module ends the session when no
%%% renewal came in time, as prosody/modules/mod_auth_idchat_jwt.lua does:
%%%   - a session opened (or resumed, XEP-0198) with a credential is given
%%%     `lifetime` seconds, the credentials' lifetime (a credential used at login
%%%     expires within it);
%%%   - the console renews in-band with its next credential, which must verify
%%%     with the same key (HS256, jwt_key), name this account in `jid` and not
%%%     have expired; its `exp` is the session's new end:
%%%       <iq type='set' to='<agent host>'>
%%%         <credential xmlns='https://idchat.nl/protocol/credential/1'>JWT</credential>
%%%       </iq>
%%%   - at the end the session gets a not-authorized stream error and closes.
%%% Sessions of other authentication methods (password accounts) are untouched.
%%%
%%% Compiled by scripts/ejabberd_server.py (tests, demo) and ejabberd/Dockerfile.
%%% Logs nothing: no JIDs, no tokens.

-module(mod_idchat_credential).

-behaviour(gen_mod).

-export([start/2, stop/1, reload/3, depends/2, mod_opt_type/1, mod_options/1, mod_doc/0]).
-export([c2s_session_opened/1, c2s_session_resumed/1, c2s_handle_info/2, user_send_packet/1]).

-define(NS, <<"https://idchat.nl/protocol/credential/1">>).
-define(CHECK, idchat_credential_check).
-define(MAX_TOKEN, 4096).

start(Host, _Opts) ->
    ejabberd_hooks:add(c2s_session_opened, Host, ?MODULE, c2s_session_opened, 50),
    ejabberd_hooks:add(c2s_session_resumed, Host, ?MODULE, c2s_session_resumed, 50),
    ejabberd_hooks:add(c2s_handle_info, Host, ?MODULE, c2s_handle_info, 50),
    ejabberd_hooks:add(user_send_packet, Host, ?MODULE, user_send_packet, 20).

stop(Host) ->
    ejabberd_hooks:delete(c2s_session_opened, Host, ?MODULE, c2s_session_opened, 50),
    ejabberd_hooks:delete(c2s_session_resumed, Host, ?MODULE, c2s_session_resumed, 50),
    ejabberd_hooks:delete(c2s_handle_info, Host, ?MODULE, c2s_handle_info, 50),
    ejabberd_hooks:delete(user_send_packet, Host, ?MODULE, user_send_packet, 20).

reload(_Host, _NewOpts, _OldOpts) ->
    ok.

depends(_Host, _Opts) ->
    [].

mod_opt_type(lifetime) ->
    econf:pos_int().

mod_options(_Host) ->
    [{lifetime, 300}].

mod_doc() ->
    #{desc => [<<"Ends an agent's session when its JWT credential is not renewed in time.">>]}.

%% A new session (after SASL): it may live `lifetime` seconds unless renewed.
c2s_session_opened(State) ->
    start_clock(State).

%% A resumed session (XEP-0198): its new login carried a fresh credential.
c2s_session_resumed(State) ->
    start_clock(State).

start_clock(#{lserver := Host} = State) ->
    case with_credential(State) of
        false ->
            State;
        true ->
            Lifetime = gen_mod:get_module_opt(Host, ?MODULE, lifetime),
            End = max(maps:get(idchat_end, State, 0), now_seconds() + Lifetime),
            schedule(State#{idchat_end => End})
    end.

c2s_handle_info(#{idchat_end := End, lang := Lang} = State, ?CHECK) ->
    case End - now_seconds() of
        Left when Left > 0 ->
            {stop, schedule(State)};
        _ ->
            Text = <<"Uw aanmelding is verlopen. / Your sign-in has expired.">>,
            {stop, ejabberd_c2s:send(State, xmpp:serr_not_authorized(Text, Lang))}
    end;
c2s_handle_info(State, ?CHECK) ->
    {stop, State};
c2s_handle_info(State, _Info) ->
    State.

%% The console's renewal: an IQ set to the server itself with a credential child.
user_send_packet({Pkt, #{jid := JID, lserver := Host} = State} = Acc) ->
    case renewal(Pkt, Host) of
        false ->
            Acc;
        Token ->
            case with_credential(State) andalso check(Token, JID) of
                {ok, Exp} ->
                    ejabberd_router:route(xmpp:make_iq_result(Pkt)),
                    End = max(Exp, maps:get(idchat_end, State, 0)),
                    {stop, {drop, schedule(State#{idchat_end => End})}};
                _ ->
                    Text = <<"Geen geldige aanmelding. / Not a valid credential.">>,
                    Lang = xmpp:get_lang(Pkt),
                    ejabberd_router:route_error(Pkt, xmpp:err_not_authorized(Text, Lang)),
                    {stop, {drop, State}}
            end
    end;
user_send_packet(Acc) ->
    Acc.

renewal(Pkt, Host) ->
    IsSet = xmpp:get_name(Pkt) == <<"iq">> andalso xmpp:get_type(Pkt) == set,
    To = xmpp:get_to(Pkt),
    ToServer = IsSet andalso To /= undefined andalso jid:tolower(To) == {<<>>, Host, <<>>},
    case ToServer andalso xmpp:get_els(Pkt) of
        [{xmlel, <<"credential">>, Attrs, _} = El] ->
            case lists:keyfind(<<"xmlns">>, 1, Attrs) of
                {_, ?NS} -> fxml:get_tag_cdata(El);
                _ -> false
            end;
        _ ->
            false
    end.

%% {ok, Exp} for a credential of this account that verifies and has not expired.
check(Token, JID) when is_binary(Token), byte_size(Token) =< ?MAX_TOKEN ->
    {User, Server, _} = jid:tolower(JID),
    try jose_jwt:verify_strict(ejabberd_option:jwt_key(Server), [<<"HS256">>], Token) of
        {true, {jose_jwt, #{<<"exp">> := Exp, <<"jid">> := Claimed}}, _} when is_integer(Exp) ->
            Same = try jid:tolower(jid:decode(Claimed)) == {User, Server, <<>>}
                   catch _:_ -> false end,
            case Same andalso Exp > now_seconds() of
                true -> {ok, Exp};
                false -> error
            end;
        _ ->
            error
    catch
        _:_ -> error
    end;
check(_Token, _JID) ->
    error.

with_credential(State) ->
    maps:get(auth_module, State, undefined) == ejabberd_auth_jwt.

%% One timer per session: a renewal replaces it.
schedule(#{idchat_end := End} = State) ->
    case maps:get(idchat_timer, State, undefined) of
        undefined -> ok;
        Old -> erlang:cancel_timer(Old)
    end,
    Timer = erlang:send_after(max(0, End - now_seconds()) * 1000 + 1000, self(), ?CHECK),
    State#{idchat_timer => Timer}.

now_seconds() ->
    erlang:system_time(second).
